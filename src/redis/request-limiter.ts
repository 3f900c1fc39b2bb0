// Owns request pacing shared by every replica: SWR's 20 requests per second is per tenant, so the replicas
// draw from one token bucket in Redis per registry host, and a 429/503 seen by one slows them all down.
// A RequestPacer like TokenBucket, so the transport can use either.
import type { Redis } from 'ioredis';
import { systemClock } from '../oci/clock.js';
import { TokenBucket, type RequestPacer } from '../oci/rate-limit.js';
import { luaScript, runScript, withTimeout, type LuaScript } from './connection.js';

export type LimiterMode = 'shared' | 'local';

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

// Idle state is dropped after this; a registry not asked for ten minutes starts again at the full rate.
const STATE_TTL_MS = 10 * 60 * 1000;

/**
 * The grant log's window: a second, plus a margin for the time between a grant on Redis and the request's
 * arrival at the registry, which varies by replica (one granted late in its window may arrive with the next
 * window's first). The registry counts arrivals; without the margin it saw rate + 1 in a second.
 */
const WINDOW_US = 1_200_000;
/**
 * A grant whose answer took longer than this to reach the replica (a busy event loop, a slow network) is not
 * used: the request would leave late and could reach the registry next to the next window's first. Its token
 * is given up and another asked for. Together with the window's margin this keeps the registry's count of
 * arrivals in any second at or under the rate (on a loaded 2-core machine, 1.15 s alone let 11 of 10 through).
 */
const STALE_GRANT_MS = 100;

// Two rules, both on Redis' clock (TIME, in microseconds) so the replicas' clocks do not matter:
// - a token bucket (rate, capacity `burst`) spaces requests out, and lets a short stall be made up;
// - a log of the grants of the last window (WINDOW_US) caps it at the rate, whatever the bucket allows.
// Each call takes a token or says how long until one is due; nothing is reserved, so a slowDown in between
// applies at once. KEYS: state hash, grant log. ARGV: configured rate, burst, successes since this replica's
// last call, state TTL (ms), window (µs).
const TAKE = luaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local configured = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local successes = math.min(tonumber(ARGV[3]), 100000)
local s = redis.call('HMGET', KEYS[1], 'tokens', 'ts', 'rate', 'pause')
local rate = math.min(tonumber(s[3]) or configured, configured)
while successes > 0 and rate < configured do
  rate = rate + 1 / rate
  successes = successes - 1
end
rate = math.min(rate, configured)
local limit = math.max(1, math.floor(rate))
local capacity = math.min(burst, limit)
local tokens = tonumber(s[1]) or capacity
local ts = tonumber(s[2]) or now
if now > ts then tokens = tokens + (now - ts) * rate / 1000000 end
tokens = math.min(tokens, capacity)
local pause = tonumber(s[4]) or 0
local wait = 0
if now < pause then
  wait = pause - now
else
  local window = tonumber(ARGV[5])
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - window)
  if redis.call('ZCARD', KEYS[2]) >= limit then
    local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
    wait = math.max(1, tonumber(oldest[2]) + window - now)
    -- Tokens saved up meanwhile would all go the moment the window has room: let one be due then, not a burst.
    tokens = math.min(tokens, 1 - wait * rate / 1000000)
  end
  if tokens < 1 then wait = math.max(wait, (1 - tokens) * 1000000 / rate) end
  if wait == 0 then
    tokens = tokens - 1
    redis.call('ZADD', KEYS[2], now, redis.call('HINCRBY', KEYS[1], 'seq', 1))
    redis.call('PEXPIRE', KEYS[2], math.ceil(window / 1000) * 2)
  end
end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'ts', now, 'rate', rate)
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[4]) + math.ceil(math.max(0, pause - now) / 1000))
return {math.ceil(wait), tostring(rate)}
`);

// A 429/503 pauses everyone and halves the shared rate below what was sent in the last second; answers to
// requests already in flight (from any replica) report the same overload, so it halves at most once a second.
// KEYS: state hash, grant log. ARGV: configured rate, pause (ms), state TTL (ms).
const SLOW_DOWN = luaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local configured = tonumber(ARGV[1])
local s = redis.call('HMGET', KEYS[1], 'tokens', 'rate', 'pause', 'slowed')
local rate = math.min(tonumber(s[2]) or configured, configured)
local pause = math.max(tonumber(s[3]) or 0, now + tonumber(ARGV[2]) * 1000)
local slowed = tonumber(s[4])
if slowed == nil or now - slowed >= 1000000 or now < slowed then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - 1000000)
  local sent = redis.call('ZCARD', KEYS[2])
  rate = math.max(1, math.min(rate, math.max(sent, 1)) / 2)
  slowed = now
  if (tonumber(s[1]) or 0) > 1 then redis.call('HSET', KEYS[1], 'tokens', 1) end
end
redis.call('HSET', KEYS[1], 'rate', rate, 'pause', pause, 'slowed', slowed)
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]) + math.ceil((pause - now) / 1000))
return tostring(rate)
`);

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
  private readonly retryRedisAfterMs: number;
  private readonly unlimited: TokenBucket | undefined;
  private readonly waiters: Array<() => void> = [];
  private readonly writes = new Set<Promise<unknown>>();
  private pumping = false;
  private sharedRate: number;
  private successes = 0;
  private pausedUntil = 0;
  private currentMode: LimiterMode = 'shared';
  private localUntil = 0;
  private fallback: TokenBucket | undefined;

  constructor(
    private readonly client: Redis,
    private readonly options: RedisRequestLimiterOptions,
  ) {
    this.configured = Math.max(0, options.requestsPerSecond);
    this.burst = Math.max(1, Math.floor(options.burst ?? Math.ceil(this.configured / 4)));
    this.keys = [`rl:${options.host}`, `rl:${options.host}:granted`];
    this.replicaHint = Math.max(1, options.replicaHint);
    this.redisTimeoutMs = options.redisTimeoutMs ?? 500;
    this.retryRedisAfterMs = options.retryRedisAfterMs ?? 2000;
    this.sharedRate = this.configured;
    if (this.configured <= 0) this.unlimited = new TokenBucket(0);
  }

  /** The rate in force for this replica: the shared one, or the local one while Redis is away. */
  get currentRate(): number {
    if (this.unlimited) return this.unlimited.currentRate;
    if (this.currentMode === 'local' && this.fallback) return this.fallback.currentRate;
    return this.sharedRate;
  }

  get mode(): LimiterMode {
    return this.currentMode;
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
    if (this.currentMode === 'local') {
      this.fallback?.slowDown(pauseMs);
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
    if (this.currentMode === 'local') {
      this.fallback?.succeeded();
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
        const waitMs = this.redisUsable() ? await this.askForToken() : undefined;
        if (waitMs === undefined) {
          await this.localBucket().take();
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

  private redisUsable(): boolean {
    if (this.client.status !== 'ready') {
      this.goLocal(`Redis connection is ${this.client.status}`);
      return false;
    }
    return Date.now() >= this.localUntil;
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
      if (this.currentMode === 'local') {
        this.currentMode = 'shared';
        this.fallback = undefined;
        this.options.onModeChange?.(
          'shared',
          `Redis answers again; pacing ${this.options.host} with the other replicas`,
        );
      }
      return Math.ceil(Number(reply[0]) / 1000);
    } catch (error) {
      this.goLocal(error instanceof Error ? error.message : String(error));
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

  private goLocal(reason: string): void {
    this.localUntil = Date.now() + this.retryRedisAfterMs;
    if (this.currentMode === 'local') return;
    this.currentMode = 'local';
    this.options.onModeChange?.(
      'local',
      `${reason}; pacing ${this.options.host} locally at ${this.configured}/${this.replicaHint} requests per second`,
    );
  }

  private localBucket(): TokenBucket {
    this.fallback ??= new TokenBucket(this.configured / this.replicaHint, 1);
    return this.fallback;
  }
}

function delay(ms: number): Promise<void> {
  return systemClock.sleep(Math.max(1, ms));
}
