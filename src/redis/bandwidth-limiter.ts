// Owns MaxBandwidth for all replicas together: one byte bucket in Redis that every replica reserves from, a
// grant of many chunks at a time so Redis is not asked per packet, handed out locally in the order asked.
import type { Redis } from 'ioredis';
import { burstFor, ByteBucket, type BandwidthLimiter, type BandwidthStats } from '../copy/index.js';
import { abortReason, systemClock, type Clock } from '../oci/index.js';
import { luaScript, runScript, withTimeout } from './connection.js';
import { LocalFallback, type LimiterMode } from './local-fallback.js';

// The same arithmetic as ByteBucket, on Redis' clock (TIME, in µs) so the replicas' clocks do not matter: refill
// up to the burst, take the grant (the bucket may go into debt: the debt is the queue of replicas), answer how
// many µs until the grant is paid for. KEYS: the bucket. ARGV: rate (bytes/s), burst, grant (bytes), TTL (ms).
const RESERVE = luaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local s = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(s[1]) or burst
local ts = tonumber(s[2]) or now
if now > ts then
  tokens = math.min(burst, tokens + (now - ts) * rate / 1000000)
  ts = now
end
tokens = tokens - tonumber(ARGV[3])
local wait = 0
if tokens < 0 then wait = math.ceil(-tokens * 1000000 / rate) end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(ts))
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[4]) + math.ceil(wait / 1000))
return wait
`);

/** An idle bucket is dropped after this; it would be full again long before anyway. */
const STATE_TTL_MS = 60_000;
/** A grant left over this long after it was due stood for budget that has passed: not spent later in a burst. */
const STALE_CREDIT_MS = 1000;

export interface RedisBandwidthOptions {
  /** For all replicas together. Replicas should be configured alike. */
  bytesPerSecond: number;
  /** Without Redis, each replica caps itself at bytesPerSecond / replicaHint. */
  replicaHint: number;
  /** Bytes reserved from Redis per call (default a twentieth of a second's worth, within 64 KiB-1 MiB). */
  grantBytes?: number;
  /** The shared bucket's burst (default burstFor(bytesPerSecond)). */
  burst?: number;
  redisTimeoutMs?: number;
  retryRedisAfterMs?: number;
  clock?: Clock;
  /** Switching between the shared budget and a local one, for the service log. */
  onModeChange?: (mode: LimiterMode, reason: string) => void;
}

export class RedisBandwidthLimiter implements BandwidthLimiter {
  readonly stats: BandwidthStats & { reservations: number } = {
    grantedBytes: 0,
    waits: 0,
    waitedMs: 0,
    reservations: 0,
  };
  readonly bytesPerSecond: number;
  private readonly grantBytes: number;
  private readonly burst: number;
  private readonly clock: Clock;
  /** Bytes reserved on Redis and not yet handed out, usable from creditDue (this process's clock). */
  private credit = 0;
  private creditDue = 0;
  /** Reservations run one after another, so callers of this process are served in the order they asked. */
  private tail: Promise<unknown> = Promise.resolve();
  private readonly fallback: LocalFallback<ByteBucket>;

  constructor(
    private readonly client: Redis,
    private readonly options: RedisBandwidthOptions,
  ) {
    this.bytesPerSecond = options.bytesPerSecond;
    if (!(this.bytesPerSecond > 0)) throw new Error(`a shared bandwidth cap needs a rate above 0`);
    this.grantBytes = Math.max(
      1,
      Math.round(options.grantBytes ?? clamp(this.bytesPerSecond / 20, 64 * 1024, 1024 ** 2)),
    );
    this.burst = options.burst ?? burstFor(this.bytesPerSecond);
    this.clock = options.clock ?? systemClock;
    const replicas = Math.max(1, options.replicaHint);
    this.fallback = new LocalFallback(client, {
      retryRedisAfterMs: options.retryRedisAfterMs ?? 2000,
      now: () => this.clock.now(),
      makeBucket: () => new ByteBucket(this.bytesPerSecond / replicas, this.clock),
      describe: {
        local: `capping this replica at MaxBandwidth/${options.replicaHint} until Redis answers`,
        shared: 'Redis answers again; sharing MaxBandwidth with the other replicas',
      },
      onModeChange: options.onModeChange,
    });
  }

  get mode(): LimiterMode {
    return this.fallback.mode;
  }

  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw abortReason(signal);
    const turn = this.tail.then(() => this.reserve(bytes));
    this.tail = turn.catch(() => undefined);
    const due = await turn;
    // Cancelled while earlier callers were being served: its grant stays unused rather than sent.
    if (signal?.aborted) throw abortReason(signal);
    const waitMs = Math.ceil(due - this.clock.now());
    if (waitMs > 0) {
      this.stats.waits++;
      this.stats.waitedMs += waitMs;
      await this.clock.sleep(waitMs, signal);
    }
    this.stats.grantedBytes += bytes;
  }

  /** When (on this process's clock) `bytes` may be sent; reserves from Redis when the credit in hand is short. */
  private async reserve(bytes: number): Promise<number> {
    const now = this.clock.now();
    if (now - this.creditDue > STALE_CREDIT_MS) this.credit = 0;
    if (this.credit >= bytes) {
      this.credit -= bytes;
      return this.creditDue;
    }
    const ask = Math.ceil((bytes - this.credit) / this.grantBytes) * this.grantBytes;
    const waitUs = this.fallback.redisUsable() ? await this.askRedis(ask) : undefined;
    if (waitUs === undefined) {
      this.credit = 0;
      return this.clock.now() + this.fallback.localBucket().reserve(bytes);
    }
    this.credit += ask - bytes;
    this.creditDue = this.clock.now() + waitUs / 1000;
    return this.creditDue;
  }

  /** µs until the grant is paid for, or undefined when Redis did not answer. */
  private async askRedis(bytes: number): Promise<number | undefined> {
    try {
      const reply = await withTimeout(
        runScript(this.client, RESERVE, ['bw:budget'], [this.bytesPerSecond, this.burst, bytes, STATE_TTL_MS]),
        this.options.redisTimeoutMs ?? 500,
        'for the shared bandwidth budget',
      );
      this.stats.reservations++;
      this.fallback.answered();
      return Number(reply);
    } catch (error) {
      this.fallback.goLocal(error instanceof Error ? error.message : String(error));
      return undefined;
    }
  }
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
