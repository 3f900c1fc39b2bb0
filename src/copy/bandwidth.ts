// Owns what the engine knows of MaxBandwidth: a limiter that grants bytes (this process's ByteBucket, or one
// shared by the replicas through Redis), and the throttle it puts on each blob's stream from source to destination.
import { abortReason } from '../oci/index.js';

/** What a limiter has let through, for tests, benchmarks and logs: counts, not times. */
export interface BandwidthStats {
  /** Bytes let through (their wait, if any, is over). */
  grantedBytes: number;
  /** Grants that had to wait for the budget. */
  waits: number;
  /** The time those waits were for, in all. */
  waitedMs: number;
}

export interface BandwidthLimiter {
  /** The cap in bytes per second. */
  readonly bytesPerSecond: number;
  readonly stats: BandwidthStats;
  /**
   * Resolves when `bytes` more may be sent. Callers are served in the order they asked (FIFO), so concurrent
   * transfers asking one chunk at a time share the budget evenly. Rejects with the signal's reason once it aborts.
   */
  take(bytes: number, signal?: AbortSignal): Promise<void>;
}

/**
 * A bucket's burst: 100 ms of the rate, at least 64 KiB (one read from a socket), so a chunk never waits
 * merely for being a chunk, and a transfer starting after a lull gets no more than a tenth of a second ahead.
 */
export function burstFor(bytesPerSecond: number): number {
  return Math.max(64 * 1024, Math.round(bytesPerSecond / 10));
}

/**
 * The stream with each chunk held back until the limiter grants it. The next chunk is read from the source only
 * when the consumer asks for it: a wait delays reading (the socket's own flow control holds Harbor back), and
 * never more than the one chunk in hand is kept.
 */
export async function* throttled(
  source: AsyncIterable<Buffer>,
  limiter: BandwidthLimiter,
  signal?: AbortSignal,
): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    if (signal?.aborted) throw abortReason(signal);
    await limiter.take(chunk.length, signal);
    yield chunk;
  }
}
