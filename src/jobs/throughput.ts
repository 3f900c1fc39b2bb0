// Owns the throughput tally the status page shows: what one finished job adds to its 5-minute bucket, and
// the same tally over jobs in memory for a backend that has no per-bucket counters (Redis).
import type { Job } from './types.js';

export const THROUGHPUT_WINDOW_MS = 60 * 60 * 1000;
export const THROUGHPUT_BUCKET_MS = 5 * 60 * 1000;

/** One bucket's sums; `start` is aligned to THROUGHPUT_BUCKET_MS since the epoch, so buckets never shift. */
export interface ThroughputRow {
  start: number;
  /** Images copied (not skipped, not failed) by jobs that finished in this bucket. */
  images: number;
  /** Bytes uploaded by jobs that finished in this bucket, failed ones included: they crossed the wire. */
  bytes: number;
  jobs: number;
  failedImages: number;
}

interface CountedResult {
  status?: string;
  bytesUploaded?: number;
}

export function bucketStart(at: number): number {
  return Math.floor(at / THROUGHPUT_BUCKET_MS) * THROUGHPUT_BUCKET_MS;
}

/** What one finished job adds to its bucket. */
export function tally(results: readonly unknown[]): Omit<ThroughputRow, 'start' | 'jobs'> {
  let images = 0;
  let bytes = 0;
  let failedImages = 0;
  for (const r of results as CountedResult[]) {
    if (r.status === 'copied') images++;
    if (r.status === 'failed') failedImages++;
    bytes += r.bytesUploaded ?? 0;
  }
  return { images, bytes, failedImages };
}

/** Buckets of the jobs that finished from `since` to `until`, oldest first (only buckets with a job). */
export function tallyJobs(finished: readonly Job[], since: Date, until = new Date()): ThroughputRow[] {
  const rows = new Map<number, ThroughputRow>();
  for (const job of finished) {
    const at = Date.parse(job.finishedAt ?? '');
    if (!(at >= since.getTime() && at <= until.getTime())) continue;
    const start = bucketStart(at);
    const row = rows.get(start) ?? { start, images: 0, bytes: 0, jobs: 0, failedImages: 0 };
    const add = tally(job.results);
    row.images += add.images;
    row.bytes += add.bytes;
    row.failedImages += add.failedImages;
    row.jobs++;
    rows.set(start, row);
  }
  return [...rows.values()].sort((a, b) => a.start - b.start);
}
