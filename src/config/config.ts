// The service configuration: the old tool's app.conf keys and ours (declared in keys.ts), loaded from a dotenv
// file with the environment taking precedence, assembled into one Config with every problem named at once.
import type { HuaweiAccount } from '../swr/destination.js';
import { existsSync, readFileSync } from 'node:fs';
import dotenv from 'dotenv';
import type { ProjectFilters } from '../filters/rules.js';
import { projectFilters } from './filter-keys.js';
import {
  resolveDestinations,
  readDestination,
  type DestinationConfig,
  type DestinationSwr,
  type MappedTarget,
} from './destinations.js';
import { CONFIG_KEYS } from './keys.js';
import { keyReader, rawText, type Raw } from './read-keys.js';
import { proxyRoutes } from './proxy-settings.js';
import type { ProxyRoutes } from '../oci/index.js';
export { parseDuration } from './duration.js';
export { SECRET_KEYS } from './keys.js';
export { parseNamespaceMap } from './namespace-map.js';

export type { DestinationConfig, MappedTarget } from './destinations.js';

export interface Config {
  imageOverwrite: boolean;
  /** Project -> its namespace at the default destination (else at its first target), as the old tool had it. */
  namespaceMap: Map<string, string>;
  /** Project -> every (destination, namespace) it is written to: one job per target and image. */
  targets: Map<string, MappedTarget[]>;
  /** Every destination, the default (hw, swr, engine.requestsPerSecond) first. */
  destinations: DestinationConfig[];
  /** Replication filters (IncludeTags, ExcludeTags, ...) by Harbor project; a project without any copies all. */
  filters: ProjectFilters;
  hw: HuaweiAccount;
  harbor: {
    address: string;
    protocol: 'http' | 'https';
    user?: string;
    password?: string;
    skipTlsVerify: boolean;
    caCertificate?: string;
    api: 'auto' | 'v2' | 'v1' | 'registry';
  };
  /** The default destination's registry settings. */
  swr: DestinationSwr;
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
  /** Deleting at the destination what the service wrote: on Harbor's delete events, and in the sweep. */
  deletes: { onEvents: boolean; inSweep: boolean };
  engine: {
    maxImagesInFlight: number;
    maxBlobTransfers: number;
    requestsPerSecond: number;
    harborRequestsPerSecond: number;
    /** Bytes per second for all blob transfers of the deployment together (MaxBandwidth); 0 = unlimited. */
    maxBandwidth: number;
    manifestFormat: 'auto' | 'preserve' | 'docker';
    copySignatures: boolean;
  };
  /** Where the values came from, for the start-up log (never the values of secrets). */
  source: string;
  /** Hosts besides a registry's own that may receive its credentials as its token realm (TokenRealmHosts). */
  tokenRealmHosts: string[];
  /** Which outbound connections go through a proxy (Proxy/NoProxy, else HTTPS_PROXY, HTTP_PROXY, NO_PROXY). */
  proxy: ProxyRoutes;
}

export class ConfigError extends Error {
  /** `searched`: the files looked for when none was found (the configuration came from the environment only). */
  constructor(
    readonly problems: string[],
    readonly searched?: string[],
  ) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/** `CONFIG_FILE`, else ./app.conf, else config/app.conf; the environment overrides the file, as `docker run --env-file` does. */
export function readRawConfig(
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): { raw: Raw; source: string; searched?: string[] } {
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
  const searched = source === 'environment only' ? candidates : undefined;
  return { raw: { ...fromFile, ...pick(env) }, source, searched };
}

function pick(env: NodeJS.ProcessEnv): Raw {
  return Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined));
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const { raw, source, searched } = readRawConfig(env, cwd);
  try {
    return parseConfig(raw, source);
  } catch (error) {
    // Missing keys are then the symptom, not the cause: say where the file was looked for.
    if (error instanceof ConfigError && searched) throw new ConfigError(error.problems, searched);
    throw error;
  }
}

export function parseConfig(raw: Raw, source = 'given values'): Config {
  const problems: string[] = [];
  const { get, all, given } = keyReader(CONFIG_KEYS, raw, problems);

  const queueSettings = (): Config['queue'] => {
    const backend = get('QueueBackend');
    const redisUrl = rawText(raw, 'RedisURL');
    if (backend === 'redis' && !redisUrl)
      problems.push(
        "QueueBackend=redis needs RedisURL, e.g. redis://:PASSWORD@redis:6379/2 (Harbor's Redis, a database Harbor does not use)",
      );
    return {
      backend,
      redisUrl: get('RedisURL'),
      keyPrefix: get('RedisKeyPrefix'),
      lockMs: get('JobLockSeconds') * 1000,
      replicas: get('Replicas'),
    };
  };

  const mapped = get('NamespaceMap');
  const base = readDestination('default', { get, given }, '', problems);
  const harborAddress = get('HarborAddr');
  const harborProtocol = get('HarborProtocol');
  const harborApi = get('HarborAPI');
  const { destinations, targets } = resolveDestinations(raw, base, get('Destinations'), mapped, problems);
  const namespaceMap = new Map(
    [...targets].flatMap(([project, to]) => {
      const first = to.find((t) => t.destination === base.host) ?? to[0];
      return first ? [[project, first.namespace] as const] : [];
    }),
  );

  const config: Config = {
    imageOverwrite: get('ImageOverwrite'),
    namespaceMap,
    targets,
    destinations,
    filters: projectFilters(
      {
        IncludeRepositories: get('IncludeRepositories'),
        ExcludeRepositories: get('ExcludeRepositories'),
        IncludeTags: get('IncludeTags'),
        ExcludeTags: get('ExcludeTags'),
        IncludeLabels: get('IncludeLabels'),
        ExcludeLabels: get('ExcludeLabels'),
      },
      namespaceMap,
      harborApi,
      problems,
    ),
    hw: base.hw,
    harbor: {
      address: harborAddress ?? '',
      protocol: harborProtocol,
      user: get('HarborUser'),
      password: get('HarborPassword'),
      skipTlsVerify: get('HarborInsecure'),
      caCertificate: get('HarborCACert'),
      api: harborApi,
    },
    swr: base.swr,
    port: get('Port'),
    listenAddress: get('ListenAddress'),
    maxConnectionsPerClient: get('MaxConnectionsPerClient'),
    shutdownGraceMs: get('ShutdownGraceSeconds') * 1000,
    logDir: get('LogDir'),
    logFormat: get('LogFormat'),
    logRotation: { maxBytes: get('LogMaxSizeMB') * 1024 * 1024, maxFiles: get('LogMaxFiles') },
    jobRetention: { days: get('JobRetentionDays'), count: get('JobRetentionCount') },
    dataDir: get('DataDir'),
    webhookAuthHeader: get('WebhookAuthHeader'),
    apiToken: get('ApiToken'),
    allowHeaderCredentials: get('AllowHeaderCredentials'),
    jobs: { concurrency: get('MaxConcurrentJobs'), retries: get('JobRetries'), coalesceMs: get('WebhookCoalesceMs') },
    reconcile: { intervalMs: get('ReconcileInterval'), onStart: get('ReconcileOnStart') },
    deletes: { onEvents: get('SyncDeletes'), inSweep: get('ReconcileDeletes') },
    queue: queueSettings(),
    engine: {
      maxImagesInFlight: get('MaxImagesInFlight'),
      maxBlobTransfers: get('MaxBlobTransfers'),
      requestsPerSecond: base.requestsPerSecond,
      harborRequestsPerSecond: get('HarborRequestsPerSecond'),
      maxBandwidth: get('MaxBandwidth'),
      manifestFormat: get('ManifestFormat'),
      copySignatures: get('CopySignatures'),
    },
    source,
    tokenRealmHosts: get('TokenRealmHosts'),
    proxy: proxyRoutes(raw, problems),
  };
  all(); // a key of the table the assembly above forgot is still checked
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
