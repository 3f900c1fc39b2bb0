// Owns the embedded store's throughput counters: one row per 5-minute bucket, added to in the transaction
// that finishes a job, so the status page reads a few rows instead of every job of the last hour. The tally
// itself (what a job adds, bucket boundaries) is shared with the Redis backend in jobs/throughput.ts.
import type Database from 'better-sqlite3';
import { bucketStart, tally, tallyJobs, type ThroughputRow } from '../jobs/throughput.js';
import type { Job } from '../jobs/types.js';

/** Adds one finished job's results to the bucket of `at`; call inside the transaction that finishes it. */
export function countFinished(db: Database.Database, at: Date, results: readonly unknown[]): void {
  const add = tally(results);
  db.prepare(
    `INSERT INTO throughput (bucket_start, jobs, images, bytes, failed_images) VALUES (?, 1, ?, ?, ?)
      ON CONFLICT (bucket_start) DO UPDATE SET jobs = jobs + 1, images = images + excluded.images, bytes = bytes + excluded.bytes, failed_images = failed_images + excluded.failed_images`,
  ).run(bucketStart(at.getTime()), add.images, add.bytes, add.failedImages);
}

/** A store from before the counters: its recently finished jobs fill them once, so the page shows no gap. */
export function backfillCounters(db: Database.Database, recentlyFinished: readonly Job[]): void {
  const add = db.prepare(
    'INSERT INTO throughput (bucket_start, jobs, images, bytes, failed_images) VALUES (?, ?, ?, ?, ?)',
  );
  const rows = tallyJobs(recentlyFinished, new Date(0));
  db.transaction(() => rows.forEach((r) => add.run(r.start, r.jobs, r.images, r.bytes, r.failedImages)))();
}

/** Buckets from the one holding `since` on, oldest first. */
export function countersSince(db: Database.Database, since: Date): ThroughputRow[] {
  const rows = db
    .prepare(
      'SELECT bucket_start, jobs, images, bytes, failed_images FROM throughput WHERE bucket_start >= ? ORDER BY bucket_start',
    )
    .all(bucketStart(since.getTime())) as Array<{
    bucket_start: number;
    jobs: number;
    images: number;
    bytes: number;
    failed_images: number;
  }>;
  return rows.map((r) => ({
    start: r.bucket_start,
    jobs: r.jobs,
    images: r.images,
    bytes: r.bytes,
    failedImages: r.failed_images,
  }));
}

/** Buckets that started before `start` go (pruning). */
export function dropCountersBefore(db: Database.Database, start: number): void {
  db.prepare('DELETE FROM throughput WHERE bucket_start < ?').run(start);
}
