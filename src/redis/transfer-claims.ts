// Owns the cross-replica single flight of blob uploads: a lease per (registry, digest) in Redis, held while
// one replica uploads, so the others wait and then mount instead of sending the same bytes again.
import type { Redis } from 'ioredis';
import type { TransferClaim, TransferClaims } from '../copy/transfer-claims.js';
import { withTimeout } from './connection.js';
import { lockKey, type LeaseLocks } from './lock.js';

/** Renewed while the upload runs, so only a dead replica's claim runs out (and then another uploads). */
const CLAIM_TTL_MS = 30_000;
const REDIS_TIMEOUT_MS = 2_000;

export class RedisTransferClaims implements TransferClaims {
  constructor(
    private readonly client: Redis,
    private readonly locks: LeaseLocks,
  ) {}

  async claim(registry: string, digest: string): Promise<TransferClaim | undefined> {
    try {
      return await this.locks.acquire(name(registry, digest), CLAIM_TTL_MS);
    } catch {
      // Redis away: upload anyway. A blob sent twice costs bandwidth; a copy stuck on Redis costs the copy.
      return { release: async () => undefined };
    }
  }

  async held(registry: string, digest: string): Promise<boolean> {
    try {
      return (
        (await withTimeout(
          this.client.exists(lockKey(name(registry, digest))),
          REDIS_TIMEOUT_MS,
          'asking about a blob upload',
        )) === 1
      );
    } catch {
      return false;
    }
  }
}

function name(registry: string, digest: string): string {
  return `upload:${registry}:${digest}`;
}
