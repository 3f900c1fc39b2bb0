// Owns request pacing shared by every replica: SWR's 20 requests per second is per tenant, so the replicas
// draw from one token bucket in Redis per registry host, and a 429/503 seen by one slows them all down.
// A RequestPacer like TokenBucket, so the transport can use either.
import type { Redis } from 'ioredis';
import { systemClock } from '../oci/clock.js';
import { TokenBucket, type RequestPacer } from '../oci/rate-limit.js';
import { runScript, withTimeout, type LuaScript } from './connection.js';
import { LocalFallback, type LimiterMode } from './local-fallback.js';
import { SLOW_DOWN, STALE_GRANT_MS, STATE_TTL_MS, TAKE, WINDOW_US } from './request-limiter-scripts.js';

export type { LimiterMode } from './local-fallback.js';

export interface RedisRequestLimiterOptions {
  /** The registry host whose quota this is; replicas pacing the same host share one bucket. */
  host: string;
  /** For all replicas together; 0 or less is unlimited. Replicas should be configured alike. */
  requestsPerSecond: number;
  /** How many replicas may share the quota: without Redis, each paces itself at requestsPerSecond / replicaHint. */
  replicaHint: number;
  /**
   * Requests that may go out at once after a lull or a stall (default a quarter second's worth, at least 1).
   * Whatever it is, no 1 s window on Redis' clock holds more than requestsPerSecond grants.
   */
  burst?: number;
  /** How long to wait for Redis before pacing locally instead. */
  redisTimeoutMs?: number;
  /** How long to pace locally before asking Redis again. */
  retryRedisAfterMs?: number;
  /** Switching between the shared bucket and local pacing, for the service log. */
  onModeChange?: (mode: LimiterMode, reason: string) => void;
}

/**
 * Request pacing in Redis shared by all replicas (see TAKE). Unlimited (0) never talks to Redis: a host without
 * a quota has nothing to share, so its pushback stays with this replica (a local TokenBucket).
 *
 * When Redis cannot be asked (not connected, or no answer within redisTimeoutMs), take() does not wait for
 * it: this replica paces itself with a local bucket at requestsPerSecond / replicaHint, which keeps up to
 * replicaHint replicas under the quota together, and asks Redis again after retryRedisAfterMs. Waiting would
 * hang every copy in flight on Redis, and failing would fail them, over something the copies do not need.
 */
export class RedisRequestLimiter implements RequestPacer {
  private readonly configured: number;
  private readonly burst: number;
  private readonly keys: string[];
  private readonly replicaHint: number;
  private readonly redisTimeoutMs: number;
  private readonly fallback: LocalFallback<TokenBucket>;
  private readonly unlimited: TokenBucket | undefined;
  private readonly waiters: Array<() => void> = [];
  private readonly writes = new Set<Promise<unknown>>();
  private pumping = false;
  private sharedRate: number;
  private successes = 0;
  private pausedUntil = 0;

  constructor(
    private readonly client: Redis,
    private readonly options: RedisRequestLimiterOptions,
  ) {
    this.configured = Math.max(0, options.requestsPerSecond);
    this.burst = Math.max(1, Math.floor(options.burst ?? Math.ceil(this.configured / 4)));
    this.keys = [`rl:${options.host}`, `rl:${options.host}:granted`];
    this.replicaHint = Math.max(1, options.replicaHint);
    this.redisTimeoutMs = options.redisTimeoutMs ?? 500;
    this.fallback = new LocalFallback(client, {
      retryRedisAfterMs: options.retryRedisAfterMs ?? 2000,
      now: () => Date.now(),
      makeBucket: () => new TokenBucket(this.configured / this.replicaHint, 1),
      describe: {
        local: `pacing ${options.host} locally at ${this.configured}/${this.replicaHint} requests per second`,
        shared: `Redis answers again; pacing ${options.host} with the other replicas`,
      },
      onModeChange: options.onModeChange,
    });
    this.sharedRate = this.configured;
    if (this.configured <= 0) this.unlimited = new TokenBucket(0);
  }

  /** The rate in force for this replica: the shared one, or the local one while Redis is away. */
  get currentRate(): number {
    if (this.unlimited) return this.unlimited.currentRate;
    if (this.fallback.mode === 'local' && this.fallback.bucket) return this.fallback.bucket.currentRate;
    return this.sharedRate;
  }

  get mode(): LimiterMode {
    return this.fallback.mode;
  }

  /** Resolves when this request may go out; callers in this process are served in order. */
  take(): Promise<void> {
    if (this.unlimited) return this.unlimited.take();
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      void this.pump();
    });
  }

  slowDown(pauseMs: number): void {
    if (this.unlimited) return this.unlimited.slowDown(pauseMs);
    // This replica holds back at once, without waiting for Redis to hear about it.
    this.pausedUntil = Math.max(this.pausedUntil, Date.now() + pauseMs);
    if (this.fallback.mode === 'local') {
      this.fallback.bucket?.slowDown(pauseMs);
      return;
    }
    if (this.client.status !== 'ready') return;
    const write = this.ask(SLOW_DOWN, [this.configured, Math.max(0, Math.round(pauseMs)), STATE_TTL_MS])
      .then((rate) => {
        this.sharedRate = Number(rate);
      })
      // The next take() finds out whether Redis is there; a lost slowDown costs at worst more 503s.
      .catch(() => undefined)
      .finally(() => this.writes.delete(write));
    this.writes.add(write);
  }

  succeeded(): void {
    if (this.unlimited) return this.unlimited.succeeded();
    if (this.fallback.mode === 'local') {
      this.fallback.bucket?.succeeded();
      return;
    }
    // Sent along with the next take, which every request makes anyway: no round trip of its own.
    this.successes++;
    if (this.sharedRate < this.configured)
      this.sharedRate = Math.min(this.configured, this.sharedRate + 1 / this.sharedRate);
  }

  /** Waits until the slowDowns sent so far have reached Redis (or failed). */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.writes]);
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.waiters.length > 0) {
        const paused = this.pausedUntil - Date.now();
        if (paused > 0) {
          await delay(paused);
          continue;
        }
        const waitMs = this.fallback.redisUsable() ? await this.askForToken() : undefined;
        if (waitMs === undefined) {
          await this.fallback.localBucket().take();
          this.waiters.shift()!();
        } else if (waitMs === 0) {
          this.waiters.shift()!();
        } else {
          await delay(waitMs);
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  /** Milliseconds until a token is due (0: granted), or undefined when Redis did not answer. */
  private async askForToken(): Promise<number | undefined> {
    const successes = this.successes;
    this.successes = 0;
    try {
      const sent = performance.now();
      const reply = (await this.ask(TAKE, [this.configured, this.burst, successes, STATE_TTL_MS, WINDOW_US])) as [
        number,
        string,
      ];
      if (Number(reply[0]) === 0 && performance.now() - sent > STALE_GRANT_MS) reply[0] = 1000;
      this.sharedRate = Number(reply[1]);
      this.fallback.answered();
      return Math.ceil(Number(reply[0]) / 1000);
    } catch (error) {
      this.fallback.goLocal(error instanceof Error ? error.message : String(error));
      return undefined;
    }
  }

  private ask(script: LuaScript, args: Array<string | number>): Promise<unknown> {
    return withTimeout(
      runScript(this.client, script, this.keys, args),
      this.redisTimeoutMs,
      `for ${this.options.host}'s request bucket`,
    );
  }
}

function delay(ms: number): Promise<void> {
  return systemClock.sleep(Math.max(1, ms));
}
