// Owns knowing which replicas work on one deployment's queue: each replica stamps its id into a sorted set in
// Redis at a steady beat, and the replicas seen are those whose stamp is fresher than a few beats. Our own record
// rather than BullMQ's worker list, which reads CLIENT LIST (refused by some managed Redis services).
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Clock } from '../oci/clock.js';
import { withTimeout } from './connection.js';

/** A replica counts as gone after this many beats without a stamp (one missed beat is a slow Redis, not a death). */
const BEATS_TO_FORGET = 3;

export class ReplicaHeartbeat {
  /** This replica's member in the set (host/pid/random: two processes on one host stay apart). */
  readonly id = `${hostname()}/${process.pid}/${randomBytes(6).toString('hex')}`;
  private beating: AbortController | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    private readonly clock: Clock,
    private readonly everyMs: number,
    private readonly redisTimeoutMs: number,
  ) {}

  /** Stamps now and then every beat until stop(); a failed stamp is left for the next beat. */
  start(): void {
    if (this.beating) return;
    const beating = (this.beating = new AbortController());
    const beat = async (): Promise<void> => {
      while (!beating.signal.aborted) {
        await this.stamp().catch(() => undefined);
        await this.clock.sleep(this.everyMs, beating.signal).catch(() => undefined);
      }
    };
    void beat();
  }

  /** Stops beating and takes this replica out of the set at once, so a clean stop does not linger as a replica. */
  async stop(): Promise<void> {
    this.beating?.abort();
    this.beating = undefined;
    await withTimeout(this.redis.zrem(this.key, this.id), this.redisTimeoutMs, 'leaving the replica set').catch(
      () => undefined,
    );
  }

  /** Replicas that stamped within the last few beats, this one included once it has stamped. */
  async count(): Promise<number> {
    const since = this.clock.now() - BEATS_TO_FORGET * this.everyMs;
    return withTimeout(this.redis.zcount(this.key, since, '+inf'), this.redisTimeoutMs, 'counting replicas');
  }

  private async stamp(): Promise<void> {
    const now = this.clock.now();
    await withTimeout(
      this.redis
        .multi()
        .zadd(this.key, now, this.id)
        // Replicas that died without leaving: dropped here so the set stays as small as the deployment.
        .zremrangebyscore(this.key, '-inf', now - BEATS_TO_FORGET * this.everyMs)
        .exec(),
      this.redisTimeoutMs,
      'stamping this replica',
    );
  }
}
