// Owns turning `RedisURL` into an ioredis client the shared pieces (and BullMQ) can use, rendering that URL
// without its password for logs and errors, and running Lua scripts by digest.
import { createHash } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import { Redis, type RedisOptions } from 'ioredis';

export const DEFAULT_KEY_PREFIX = 'shs:';

export interface RedisConnectionOptions {
  /** Prepended to every key, so this service's keys stay apart from Harbor's in a shared Redis. */
  keyPrefix?: string;
  /** Shown in CLIENT LIST, so an operator of Harbor's Redis can tell whose connections these are. */
  connectionName?: string;
  /** PEM of a private CA for rediss://, trusted besides the system's. */
  caCertificate?: string;
  connectTimeoutMs?: number;
  /**
   * Connection errors (refused, reset, auth) as they happen, already free of the password. ioredis prints
   * unhandled ones to the console, so they are always handled here, and dropped when no one asks for them.
   */
  onError?: (message: string) => void;
}

interface ParsedRedisUrl {
  tls: boolean;
  host: string;
  port: number;
  username?: string;
  password?: string;
  db: number;
}

const FORM = 'redis://[[user]:password@]host[:port][/db] or rediss://...';

/** Reads a RedisURL; errors never repeat the URL, since it may hold a password. */
export function parseRedisUrl(url: string): ParsedRedisUrl {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`RedisURL is not a URL; expected ${FORM}`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new Error(`RedisURL must start with redis:// or rediss://, not ${parsed.protocol}//`);
  }
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) throw new Error(`RedisURL has no host; expected ${FORM}`);
  const port = parsed.port ? Number(parsed.port) : 6379;
  const dbText = parsed.pathname.replace(/^\//, '');
  if (dbText !== '' && !/^\d+$/.test(dbText)) throw new Error(`RedisURL database must be a number (/0, /1, ...), not /${dbText}`);
  const { username, password } = credentials(parsed);
  return { tls: parsed.protocol === 'rediss:', host, port, username, password, db: dbText === '' ? 0 : Number(dbText) };
}

// A lone user part (redis://secret@host) is a password, as ioredis and redis-cli read it.
function credentials(parsed: URL): { username?: string; password?: string } {
  const user = decodeURIComponent(parsed.username);
  const password = decodeURIComponent(parsed.password);
  if (password) return { username: user || undefined, password };
  if (user) return { password: user };
  return {};
}

/** The URL as it may appear in logs: scheme, user, host, port and db, with any password replaced by ***. */
export function maskRedisUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '(a RedisURL that is not a URL)';
  }
  const { username, password } = credentials(parsed);
  const userinfo = password ? `${username ? encodeURIComponent(username) : ''}:***@` : '';
  const params = [...parsed.searchParams].map(([name, value]) => `${name}=${/pass|secret|token|auth/i.test(name) ? '***' : value}`);
  const query = params.length > 0 ? `?${params.join('&')}` : '';
  const path = parsed.pathname && parsed.pathname !== '/' ? parsed.pathname : '';
  return `${parsed.protocol}//${userinfo}${parsed.host}${path}${query}`;
}

/**
 * A client for `url`. maxRetriesPerRequest is null as BullMQ requires for its blocking commands: a command
 * waits for the connection to come back rather than failing, so callers that must not wait (the request
 * limiter, the lock's renewal) bound their own calls.
 */
export function createRedisClient(url: string, options: RedisConnectionOptions = {}): Redis {
  const target = parseRedisUrl(url);
  const config: RedisOptions = {
    host: target.host,
    port: target.port,
    username: target.username,
    password: target.password,
    db: target.db,
    keyPrefix: options.keyPrefix ?? DEFAULT_KEY_PREFIX,
    connectionName: options.connectionName,
    connectTimeout: options.connectTimeoutMs ?? 10_000,
    maxRetriesPerRequest: null,
  };
  if (target.tls) {
    config.tls = { servername: target.host, ...(options.caCertificate ? { ca: [...rootCertificates, options.caCertificate] } : {}) };
  }
  const client = new Redis(config);
  const secrets = [target.password, target.password && encodeURIComponent(target.password)].filter((s): s is string => Boolean(s));
  client.on('error', (error: Error) => {
    if (!options.onError) return;
    let message = `Redis ${maskRedisUrl(url)}: ${error.message}`;
    for (const secret of secrets) message = message.split(secret).join('***');
    options.onError(message);
  });
  return client;
}

export interface LuaScript {
  source: string;
  sha1: string;
}

export function luaScript(source: string): LuaScript {
  return { source, sha1: createHash('sha1').update(source).digest('hex') };
}

/** EVALSHA, loading the script with EVAL when the server does not have it yet (a restart, a flush). */
export async function runScript(client: Redis, script: LuaScript, keys: string[], args: Array<string | number>): Promise<unknown> {
  try {
    return await client.evalsha(script.sha1, keys.length, ...keys, ...args);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
    return client.eval(script.source, keys.length, ...keys, ...args);
  }
}

/**
 * Gives up on a Redis call after `ms`: with maxRetriesPerRequest null a call made while Redis is away waits
 * for it indefinitely. The call itself is not cancelled, and its late answer or error is dropped.
 */
export function withTimeout<T>(call: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer ${what} within ${ms} ms`)), ms);
  });
  call.catch(() => undefined);
  return Promise.race([call, timeout]).finally(() => clearTimeout(timer));
}
