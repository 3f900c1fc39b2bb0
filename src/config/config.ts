// The service configuration: the old tool's app.conf keys and ours, loaded from a dotenv file with the
// environment taking precedence, validated in one pass that names every problem at once.
import { existsSync, readFileSync } from 'node:fs';
import dotenv from 'dotenv';
import { MAX_DURATION_MS, parseDuration } from './duration.js';
import { iamHost, isKnownRegion, SWR_REGIONS, swrApiHost, swrRegistryHost } from './regions.js';
import { parseRedisUrl } from './redis-url.js';
export { parseDuration } from './duration.js';
import { parseNamespaceMap } from './namespace-map.js';
export { parseNamespaceMap } from './namespace-map.js';
import { tokenRealmHosts } from './token-realm-hosts.js';

export interface Config {
  imageOverwrite: boolean;
  namespaceMap: Map<string, string>;
  hw: {
    authMethod: 'AKSK' | 'Password';
    ak?: string;
    sk?: string;
    domain?: string;
    user?: string;
    password?: string;
    region: string;
  };
  harbor: { address: string; protocol: 'http' | 'https'; user?: string; password?: string; skipTlsVerify: boolean; caCertificate?: string; api: 'auto' | 'v2' | 'v1' | 'registry' };
  /** `explicit` when SWRRegistry was set: then the region does not choose the registry. */
  swr: {
    registry: string;
    explicit: boolean;
    protocol: 'http' | 'https';
    user?: string;
    password?: string;
    skipTlsVerify: boolean;
    caCertificate?: string;
    apiEndpoint: string;
    iamEndpoint: string;
    manageNamespaces: boolean;
  };
  port: number;
  listenAddress: string;
  maxConnectionsPerClient: number; // at once from one client address (0 = no cap); more are closed at once
  shutdownGraceMs: number;
  logDir: string;
  /** `text` for people, `json` (one object per line) for log shippers. */
  logFormat: 'text' | 'json';
  /** Log files start anew past `maxBytes` (0: never, for logrotate), keeping `maxFiles` in all. */
  logRotation: { maxBytes: number; maxFiles: number };
  /** Finished jobs kept for the API: at most `days` old, at most `count` of them (both backends). */
  jobRetention: { days: number; count: number };
  dataDir: string;
  webhookAuthHeader?: string;
  apiToken?: string;
  allowHeaderCredentials: boolean;
  jobs: { concurrency: number; retries: number; coalesceMs: number };
  /** Where jobs live: the embedded SQLite store (one instance) or Redis (several replicas share the work). */
  /** `replicas`: how many replicas share the request quota, for pacing each alone while Redis is away. */
  queue: { backend: 'sqlite' | 'redis'; redisUrl?: string; keyPrefix: string; lockMs: number; replicas: number };
  /** The reconcile sweep: every `intervalMs` (0 = off), and once at start when `onStart`. */
  reconcile: { intervalMs: number; onStart: boolean };
  engine: {
    maxImagesInFlight: number;
    maxBlobTransfers: number;
    requestsPerSecond: number;
    harborRequestsPerSecond: number;
    manifestFormat: 'auto' | 'preserve' | 'docker';
    copySignatures: boolean;
  };
  /** Where the values came from, for the start-up log (never the values of secrets). */
  source: string;
  /** Hosts besides a registry's own that may receive its credentials as its token realm (TokenRealmHosts). */
  tokenRealmHosts: string[];
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/** Keys whose values are secrets: never logged, never echoed in an error. */
export const SECRET_KEYS = ['HWSK', 'HWPassword', 'HarborPassword', 'SWRPassword', 'WebhookAuthHeader', 'ApiToken'] as const;

type Raw = Record<string, string | undefined>;

/** `CONFIG_FILE`, else ./app.conf, else config/app.conf; the environment overrides the file, as `docker run --env-file` does. */
export function readRawConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): { raw: Raw; source: string } {
  const candidates = env.CONFIG_FILE ? [env.CONFIG_FILE] : [`${cwd}/app.conf`, `${cwd}/config/app.conf`];
  let fromFile: Raw = {};
  let source = 'environment only';
  for (const path of candidates) {
    if (existsSync(path)) {
      fromFile = dotenv.parse(readFileSync(path));
      source = `${path} and the environment`;
      break;
    }
    if (env.CONFIG_FILE) throw new ConfigError([`CONFIG_FILE points at ${path}, which does not exist`]);
  }
  return { raw: { ...fromFile, ...pick(env) }, source };
}

function pick(env: NodeJS.ProcessEnv): Raw {
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined));
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const { raw, source } = readRawConfig(env, cwd);
  return parseConfig(raw, source);
}

export function parseConfig(raw: Raw, source = 'given values'): Config {
  const problems: string[] = [];
  const str = (key: string) => {
    const v = raw[key]?.trim();
    return v === '' ? undefined : v;
  };
  const bool = (key: string, fallback: boolean) => {
    const v = str(key);
    if (v === undefined) return fallback;
    if (/^(true|1|yes)$/i.test(v)) return true;
    if (/^(false|0|no)$/i.test(v)) return false;
    problems.push(`${key} must be true or false, got "${v}"`);
    return fallback;
  };
  const int = (key: string, fallback: number, min: number, max: number) => {
    const v = str(key);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${key} must be a whole number from ${min} to ${max}, got "${v}"`);
      return fallback;
    }
    return n;
  };
  const num = (key: string, fallback: number, min: number) => {
    const v = str(key);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) {
      problems.push(`${key} must be a number of at least ${min}, got "${v}"`);
      return fallback;
    }
    return n;
  };
  const oneOf = <T extends string>(key: string, allowed: readonly T[], fallback: T | undefined): T | undefined => {
    const v = str(key);
    if (v === undefined) return fallback;
    const match = allowed.find((a) => a.toLowerCase() === v.toLowerCase());
    if (!match) problems.push(`${key} must be one of ${allowed.join(', ')}, got "${v}"`);
    return match ?? fallback;
  };

  const duration = (key: string, fallback: number) => {
    const v = str(key);
    if (v === undefined) return fallback;
    const ms = parseDuration(v);
    if (ms === undefined || (ms !== 0 && (ms < 1000 || ms > MAX_DURATION_MS))) {
      problems.push(`${key} must be 0 (off) or a duration from 1s to 24h such as 30s, 15m or 1h, got "${v}"`);
      return fallback;
    }
    return ms;
  };

  const queueSettings = (): Config['queue'] => {
    const backend = oneOf('QueueBackend', ['sqlite', 'redis'] as const, 'sqlite')!;
    const redisUrl = str('RedisURL');
    if (backend === 'redis' && !redisUrl) problems.push('QueueBackend=redis needs RedisURL, e.g. redis://:PASSWORD@redis:6379/2 (Harbor\'s Redis, a database Harbor does not use)');
    if (redisUrl) {
      try {
        parseRedisUrl(redisUrl); // its messages never repeat the URL, which may hold a password
      } catch (error) {
        problems.push((error as Error).message);
      }
    }
    const keyPrefix = str('RedisKeyPrefix') ?? 'shs';
    if (!/^[A-Za-z0-9_.-]{1,32}$/.test(keyPrefix)) problems.push(`RedisKeyPrefix must be 1 to 32 letters, digits, _ . or -, got "${keyPrefix}"`);
    return { backend, redisUrl, keyPrefix, lockMs: int('JobLockSeconds', 30, 5, 600) * 1000, replicas: int('Replicas', 3, 1, 64) };
  };

  const namespaceMap = parseNamespaceMap(str('NamespaceMap'), problems);

  const authMethod = oneOf('HWAuthMethod', ['AKSK', 'Password'] as const, undefined);
  if (!authMethod && !str('HWAuthMethod')) problems.push('HWAuthMethod is missing: set AKSK (with HWAK and HWSK) or Password (with HWDomain, HWUser and HWPassword)');
  if (authMethod === 'AKSK') {
    for (const key of ['HWAK', 'HWSK']) if (!str(key)) problems.push(`${key} is required when HWAuthMethod=AKSK`);
  }
  if (authMethod === 'Password') {
    for (const key of ['HWDomain', 'HWPassword']) if (!str(key)) problems.push(`${key} is required when HWAuthMethod=Password (HWUser may be empty to act as the account itself)`);
  }
  const region = str('RegionName');
  if (!region) problems.push(`RegionName is missing: one of ${SWR_REGIONS.join(', ')}`);
  else if (!isKnownRegion(region)) problems.push(`RegionName "${region}" is not a region SWR serves; use one of ${SWR_REGIONS.join(', ')}`);

  const harborAddress = str('HarborAddr');
  if (!harborAddress) problems.push('HarborAddr is missing: the Harbor host name or IP, with :port if not the default (e.g. harbor.example.com)');
  else if (!/^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(harborAddress) && !/^\[[0-9a-fA-F:]+\](:\d{1,5})?$/.test(harborAddress)) {
    problems.push(`HarborAddr must be a host name or IP with an optional :port, without scheme or path (got "${harborAddress}"); put http/https in HarborProtocol`);
  }
  const harborProtocol = oneOf('HarborProtocol', ['http', 'https'] as const, 'https')!;
  const harborApi = oneOf('HarborAPI', ['auto', 'v2', 'v1', 'registry'] as const, 'auto')!;
  const swrProtocol = oneOf('SWRProtocol', ['http', 'https'] as const, 'https')!;
  const swrRegistry = str('SWRRegistry') ?? (region && isKnownRegion(region) ? swrRegistryHost(region) : '');
  const knownRegion = region && isKnownRegion(region) ? region : undefined;
  const pem = (key: string): string | undefined => {
    const path = str(key);
    if (path === undefined) return undefined;
    try {
      const text = readFileSync(path, 'utf8');
      if (text.includes('-----BEGIN CERTIFICATE-----')) return text;
      problems.push(`${key} must be a PEM file with a CA certificate; ${path} holds none`);
    } catch (error) {
      problems.push(`${key} points at ${path}, which cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    return undefined;
  };
  const endpoint = (key: string, fallback: string) => {
    const v = str(key);
    if (v === undefined) return fallback;
    if (!/^https?:\/\/[^/\s]+\/?$/.test(v)) problems.push(`${key} must be a URL like https://host[:port], got "${v}"`);
    return v;
  };
  if (str('SWRRegistry') && !/^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(str('SWRRegistry')!)) problems.push(`SWRRegistry must be a host name with an optional :port (got "${str('SWRRegistry')}")`);

  const config: Config = {
    imageOverwrite: bool('ImageOverwrite', false),
    namespaceMap,
    hw: { authMethod: authMethod ?? 'AKSK', ak: str('HWAK'), sk: str('HWSK'), domain: str('HWDomain'), user: str('HWUser'), password: str('HWPassword'), region: region ?? '' },
    harbor: {
      address: harborAddress ?? '',
      protocol: harborProtocol,
      user: str('HarborUser'),
      password: str('HarborPassword'),
      skipTlsVerify: bool('HarborInsecure', false),
      caCertificate: pem('HarborCACert'),
      api: harborApi,
    },
    swr: {
      registry: swrRegistry,
      explicit: Boolean(str('SWRRegistry')),
      protocol: swrProtocol,
      user: str('SWRUser'),
      password: str('SWRPassword'),
      skipTlsVerify: bool('SWRInsecure', false),
      caCertificate: pem('SWRCACert'),
      apiEndpoint: endpoint('SWRApiEndpoint', knownRegion ? `https://${swrApiHost(knownRegion)}` : ''),
      iamEndpoint: endpoint('IAMEndpoint', knownRegion ? `https://${iamHost(knownRegion)}` : ''),
      manageNamespaces: bool('SWRManageNamespaces', true),
    },
    port: int('Port', 5000, 1, 65535),
    listenAddress: str('ListenAddress') ?? '0.0.0.0',
    maxConnectionsPerClient: int('MaxConnectionsPerClient', 64, 0, 100_000),
    shutdownGraceMs: int('ShutdownGraceSeconds', 30, 0, 3600) * 1000,
    logDir: str('LogDir') ?? '/var/log/swr_harbor_sync',
    logFormat: oneOf('LogFormat', ['text', 'json'] as const, 'text')!,
    logRotation: { maxBytes: int('LogMaxSizeMB', 100, 0, 100_000) * 1024 * 1024, maxFiles: int('LogMaxFiles', 5, 1, 1000) },
    jobRetention: { days: int('JobRetentionDays', 7, 1, 3650), count: int('JobRetentionCount', 10_000, 1, 10_000_000) },
    dataDir: str('DataDir') ?? './data',
    webhookAuthHeader: str('WebhookAuthHeader'),
    apiToken: str('ApiToken'),
    allowHeaderCredentials: bool('AllowHeaderCredentials', true),
    jobs: { concurrency: int('MaxConcurrentJobs', 2, 1, 64), retries: int('JobRetries', 5, 0, 100), coalesceMs: int('WebhookCoalesceMs', 2000, 0, 600_000) },
    reconcile: { intervalMs: duration('ReconcileInterval', 15 * 60 * 1000), onStart: bool('ReconcileOnStart', false) },
    queue: queueSettings(),
    engine: {
      maxImagesInFlight: int('MaxImagesInFlight', 4, 1, 64),
      maxBlobTransfers: int('MaxBlobTransfers', 8, 1, 20),
      requestsPerSecond: num('SWRRequestsPerSecond', 20, 0),
      harborRequestsPerSecond: num('HarborRequestsPerSecond', 0, 0),
      manifestFormat: oneOf('ManifestFormat', ['auto', 'preserve', 'docker'] as const, 'auto')!,
      copySignatures: bool('CopySignatures', true),
    },
    source,
    tokenRealmHosts: tokenRealmHosts(str('TokenRealmHosts'), problems),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
