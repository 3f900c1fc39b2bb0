// Owns the blob location index (registry + digest -> repositories holding the blob) in Redis, so that every
// replica mounts blobs any of them has pushed. Same answers as SqliteLocationIndex.
import type { Redis } from 'ioredis';
import type { LocationIndex } from '../copy/location-index.js';
import { luaScript, runScript } from './connection.js';

export interface RedisLocationIndexOptions {
  /** Repositories kept per blob; a mount needs only one that still holds it, so the oldest are dropped. */
  maxRepositoriesPerDigest?: number;
  /** A blob not seen for this long is forgotten, so Harbor's Redis does not keep every digest ever pushed. */
  idleTtlMs?: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

// Scored by Redis' clock, not the replica's, so "most recently seen" means the same thing on every replica.
const RECORD = luaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(tonumber(ARGV[2]) + 1))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`);

export class RedisLocationIndex implements LocationIndex {
  private readonly maxRepositories: number;
  private readonly idleTtlMs: number;

  constructor(
    private readonly client: Redis,
    options: RedisLocationIndexOptions = {},
  ) {
    this.maxRepositories = Math.max(1, options.maxRepositoriesPerDigest ?? 64);
    this.idleTtlMs = Math.max(1000, options.idleTtlMs ?? 30 * DAY_MS);
  }

  async has(registry: string, digest: string, repository: string): Promise<boolean> {
    return (await this.client.zscore(locationKey(registry, digest), repository)) !== null;
  }

  async candidates(registry: string, digest: string, limit: number): Promise<string[]> {
    if (limit <= 0) return [];
    return this.client.zrevrange(locationKey(registry, digest), 0, Math.min(limit, this.maxRepositories) - 1);
  }

  async record(registry: string, digest: string, repository: string): Promise<void> {
    await runScript(
      this.client,
      RECORD,
      [locationKey(registry, digest)],
      [repository, this.maxRepositories, this.idleTtlMs],
    );
  }

  async forget(registry: string, digest: string, repository: string): Promise<void> {
    await this.client.zrem(locationKey(registry, digest), repository);
  }
}

/** A host never holds '/', so the registry ends where the digest starts. */
export function locationKey(registry: string, digest: string): string {
  return `loc:${registry}/${digest}`;
}
