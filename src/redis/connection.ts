// Owns turning `RedisURL` into an ioredis client the shared pieces (and BullMQ) can use, with errors free of
// the password, and running Lua scripts by digest.
import { createHash } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import { Redis, type RedisOptions } from 'ioredis';
import { maskRedisUrl, parseRedisUrl } from '../config/redis-url.js';

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
    config.tls = {
      servername: target.host,
      ...(options.caCertificate ? { ca: [...rootCertificates, options.caCertificate] } : {}),
    };
  }
  const client = new Redis(config);
  const secrets = [target.password, target.password && encodeURIComponent(target.password)].filter((s): s is string =>
    Boolean(s),
  );
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
export async function runScript(
  client: Redis,
  script: LuaScript,
  keys: string[],
  args: Array<string | number>,
): Promise<unknown> {
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
