// Owns MaxBandwidth within one process: a token bucket of bytes that every blob transfer of the process draws
// from (jobs, manual calls, CLI runs), waiting through the Clock.
import { abortReason, systemClock, type Clock } from '../oci/index.js';
import { burstFor, type BandwidthLimiter, type BandwidthStats } from './bandwidth.js';

/**
 * Each take reserves its bytes at once and waits until the budget has paid for them: the bucket may go into
 * debt, and the debt is the queue. So waiters are served in the order they asked (a later caller's bytes come
 * after every earlier caller's), a chunk larger than the burst still gets through, and over any stretch the bytes
 * let through stay within rate x time + burst.
 *
 * A waiter that is cancelled keeps its reservation: the bytes it never sent are budget left unused, which errs
 * on the side of the cap, and giving them back would move every later waiter's turn.
 */
export class ByteBucket implements BandwidthLimiter {
  readonly stats: BandwidthStats = { grantedBytes: 0, waits: 0, waitedMs: 0 };
  private tokens: number;
  private last: number;

  constructor(
    readonly bytesPerSecond: number,
    private readonly clock: Clock = systemClock,
    readonly burst: number = burstFor(bytesPerSecond),
  ) {
    if (!(bytesPerSecond > 0)) throw new Error(`a byte bucket needs a rate above 0, got ${bytesPerSecond}`);
    this.tokens = burst;
    this.last = clock.now();
  }

  /** Reserves `bytes` now; returns how many milliseconds until they may be sent (0: at once). */
  reserve(bytes: number): number {
    const now = this.clock.now();
    if (now > this.last)
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.bytesPerSecond) / 1000);
    this.last = Math.max(this.last, now);
    this.tokens -= bytes;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens * 1000) / this.bytesPerSecond);
  }

  async take(bytes: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw abortReason(signal);
    const waitMs = this.reserve(bytes);
    if (waitMs > 0) {
      this.stats.waits++;
      this.stats.waitedMs += waitMs;
      await this.clock.sleep(waitMs, signal);
    }
    this.stats.grantedBytes += bytes;
  }
}

/** The process's limiter for a cap of `bytesPerSecond`; none when it is 0 (unlimited). */
export function bandwidthLimit(bytesPerSecond: number, clock?: Clock): BandwidthLimiter | undefined {
  return bytesPerSecond > 0 ? new ByteBucket(bytesPerSecond, clock) : undefined;
}
