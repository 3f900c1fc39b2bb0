// Owns lease locks in Redis, so that work meant to run once for the whole service (a reconcile sweep) runs on
// one replica at a time. A lease expires unless its holder renews it, so a replica that dies frees it.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { systemClock, type Clock } from '../oci/clock.js';
import { luaScript, runScript, withTimeout } from './connection.js';

export interface LeaseLocksOptions {
  /** How long to wait for Redis when acquiring, renewing or releasing. */
  redisTimeoutMs?: number;
  /** Renewal and release failures that do not end the lease themselves, for the service log. */
  onError?: (message: string) => void;
  clock?: Clock;
}

export interface Lease {
  readonly name: string;
  /** Whose lease this is (host/pid/random), also the value of the Redis key. */
  readonly token: string;
  /** Aborts, with a LockLostError, once this holder can no longer be sure it holds the lock. */
  readonly signal: AbortSignal;
  /** Stops renewing and frees the lock if it is still this holder's; never throws. */
  release(): Promise<void>;
}

export class LockLostError extends Error {
  constructor(
    readonly lockName: string,
    reason: string,
  ) {
    super(`lost the lock ${lockName}: ${reason}`);
    this.name = 'LockLostError';
  }
}

// Compare first: a holder whose lease expired must neither extend nor delete the next holder's.
const RENEW = luaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`);
const RELEASE = luaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);

export class LeaseLocks {
  private readonly redisTimeoutMs: number;
  private readonly clock: Clock;

  constructor(
    private readonly client: Redis,
    private readonly options: LeaseLocksOptions = {},
  ) {
    this.redisTimeoutMs = options.redisTimeoutMs ?? 2000;
    this.clock = options.clock ?? systemClock;
  }

  /**
   * Runs fn while holding `name`, and returns its result; returns undefined without running it when another
   * holder has the lock. fn should stop when its signal aborts: the lease may then be someone else's.
   * Rejects when Redis cannot be asked: the work is skipped rather than run without the lock.
   */
  async withLock<T>(name: string, ttlMs: number, fn: (signal: AbortSignal) => Promise<T>): Promise<T | undefined> {
    const lease = await this.acquire(name, ttlMs);
    if (!lease) return undefined;
    try {
      return await fn(lease.signal);
    } finally {
      await lease.release();
    }
  }

  /** The lease, renewed every ttlMs / 3 until released; undefined when another holder has the lock. */
  async acquire(name: string, ttlMs: number): Promise<Lease | undefined> {
    if (!(ttlMs >= 30)) throw new Error(`a lock's ttl must be at least 30 ms, not ${ttlMs}`);
    const key = lockKey(name);
    const token = `${hostname()}/${process.pid}/${randomBytes(12).toString('hex')}`;
    const sentAt = this.clock.now();
    const acquired = await withTimeout(
      this.client.set(key, token, 'PX', ttlMs, 'NX'),
      this.redisTimeoutMs,
      `acquiring the lock ${name}`,
    );
    if (acquired !== 'OK') return undefined;
    return this.hold(name, key, token, ttlMs, sentAt);
  }

  /** Like acquire, but waits for another holder to release the lock, asking again every `pollMs`, up to `waitMs`. */
  async acquireWithin(name: string, ttlMs: number, waitMs: number, pollMs = 20): Promise<Lease | undefined> {
    const giveUpAt = this.clock.now() + waitMs;
    for (;;) {
      const lease = await this.acquire(name, ttlMs);
      if (lease || this.clock.now() >= giveUpAt) return lease;
      await this.clock.sleep(pollMs);
    }
  }

  private hold(name: string, key: string, token: string, ttlMs: number, acquiredAt: number): Lease {
    const controller = new AbortController();
    const renewEvery = Math.floor(ttlMs / 3);
    // Stop a little before the lease can run out in Redis, so fn winds down before another replica starts.
    const margin = Math.min(1000, Math.floor(ttlMs / 10));
    let validUntil = acquiredAt + ttlMs;
    let released = false;
    let renewTimer: AbortController | undefined;
    let deadline: AbortController | undefined;
    // The clock's sleeps, cancelled by aborting: a fake clock in tests drives renewals and the deadline.
    const after = (ms: number, then: () => void): AbortController => {
      const timer = new AbortController();
      this.clock.sleep(ms, timer.signal).then(then, () => undefined);
      return timer;
    };

    const stop = (): void => {
      renewTimer?.abort();
      deadline?.abort();
    };
    const lose = (reason: string): void => {
      stop();
      if (!released && !controller.signal.aborted) controller.abort(new LockLostError(name, reason));
    };
    // Independent of the renewal calls, so a Redis that hangs cannot keep fn running past the lease.
    const armDeadline = (): void => {
      deadline?.abort();
      deadline = after(Math.max(0, validUntil - margin - this.clock.now()), () =>
        lose(`not renewed within ${ttlMs} ms (Redis unreachable?)`),
      );
    };
    const renew = async (): Promise<void> => {
      if (released || controller.signal.aborted) return;
      const sentAt = this.clock.now();
      try {
        const renewed = await withTimeout(
          runScript(this.client, RENEW, [key], [token, ttlMs]),
          Math.min(this.redisTimeoutMs, renewEvery),
          `renewing the lock ${name}`,
        );
        if (released) return;
        if (renewed !== 1) return lose('its key expired or another holder has it');
        validUntil = sentAt + ttlMs;
        armDeadline();
      } catch (error) {
        this.options.onError?.(`renewing the lock ${name} failed: ${(error as Error).message}`);
      }
      if (!released && !controller.signal.aborted) renewTimer = after(renewEvery, () => void renew());
    };

    armDeadline();
    renewTimer = after(renewEvery, () => void renew());
    return {
      name,
      token,
      signal: controller.signal,
      release: async () => {
        if (released) return;
        released = true;
        stop();
        try {
          await withTimeout(
            runScript(this.client, RELEASE, [key], [token]),
            this.redisTimeoutMs,
            `releasing the lock ${name}`,
          );
        } catch (error) {
          // It expires by itself within its ttl.
          this.options.onError?.(`releasing the lock ${name} failed: ${(error as Error).message}`);
        }
      },
    };
  }
}

export function lockKey(name: string): string {
  return `lock:${name}`;
}
