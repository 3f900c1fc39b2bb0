// Owns what the status page shows, as JSON: job counts, recent jobs reduced to what a table row needs, and
// throughput over the last hour bucketed on the server, so the page does no arithmetic over raw results.
import type { ImageResult } from '../../copy/index.js';
import { THROUGHPUT_BUCKET_MS, THROUGHPUT_WINDOW_MS, type ThroughputRow } from '../../jobs/throughput.js';
import type { Job, JobProgress, JobState } from '../../jobs/types.js';
import type { JobView, SyncService } from '../../service/sync-service.js';

export { THROUGHPUT_BUCKET_MS, THROUGHPUT_WINDOW_MS };

/** A job as a table row shows it: everything but the per-image results. */
export interface StatusJob extends Omit<Job, 'results'> {
  /** Live while running, else tallied from the recorded results. */
  progress: JobProgress;
  /** Per-image outcomes; the results themselves stay behind /api/v1/jobs/:id (a project job can have thousands). */
  /** `deleted` for delete jobs only, whose results are tags deleted or kept. */
  images: { copied: number; skipped: number; failed: number; deleted?: number };
}

export interface ThroughputBucket {
  start: string;
  /** Images copied (not skipped, not failed) by jobs that finished in this bucket. */
  images: number;
  /** Bytes uploaded by jobs that finished in this bucket, failed ones included: they crossed the wire. */
  bytes: number;
  jobs: number;
}

export interface StatusAnswer {
  generatedAt: string;
  counts: Record<JobState, number>;
  running: number;
  jobs: StatusJob[];
  throughput: {
    since: string;
    bucketMs: number;
    buckets: ThroughputBucket[];
    total: { images: number; bytes: number; jobs: number; failedImages: number };
  };
}

export async function statusAnswer(service: SyncService, limit: number, now = new Date()): Promise<StatusAnswer> {
  // Per-bucket sums from the queue, never the hour's jobs themselves: a busy hour is 60,000 of them.
  const [counts, jobs, rows] = await Promise.all([
    service.counts(),
    service.jobs({ limit }),
    service.queue.throughputSince(new Date(firstBucketStart(now))),
  ]);
  return {
    generatedAt: now.toISOString(),
    counts,
    running: service.queue.busy,
    jobs: jobs.map(toStatusJob),
    throughput: throughput(rows, now),
  };
}

function toStatusJob(job: JobView): StatusJob {
  const { results, progress, ...rest } = job;
  const images: Record<ImageResult['status'], number> = { copied: 0, skipped: 0, failed: 0, deleted: 0 };
  for (const r of results) images[r.status]++;
  const { deleted, ...copies } = images;
  return {
    ...rest,
    progress: progress ?? recordedProgress(job, results),
    images: job.kind === 'delete' ? { ...copies, deleted } : copies,
  };
}

function recordedProgress(job: Job, results: ImageResult[]): JobProgress {
  const bytesUploaded = results.reduce((sum, r) => sum + r.bytesUploaded, 0);
  // A queued job has not reached its images yet; a final one did all it was going to do.
  const imagesDone = job.state === 'queued' ? 0 : results.length;
  return { imagesTotal: results.length, imagesDone, bytesUploaded };
}

const BUCKETS = THROUGHPUT_WINDOW_MS / THROUGHPUT_BUCKET_MS;

/** Buckets are aligned to the bucket size so that they do not shift between polls; the last one holds `now`. */
function firstBucketStart(now: Date): number {
  return (Math.floor(now.getTime() / THROUGHPUT_BUCKET_MS) - (BUCKETS - 1)) * THROUGHPUT_BUCKET_MS;
}

export function throughput(rows: ThroughputRow[], now: Date): StatusAnswer['throughput'] {
  const firstStart = firstBucketStart(now);
  const buckets: ThroughputBucket[] = Array.from({ length: BUCKETS }, (_, i) => ({
    start: new Date(firstStart + i * THROUGHPUT_BUCKET_MS).toISOString(),
    images: 0,
    bytes: 0,
    jobs: 0,
  }));
  const total = { images: 0, bytes: 0, jobs: 0, failedImages: 0 };
  for (const row of rows) {
    const bucket = buckets[Math.floor((row.start - firstStart) / THROUGHPUT_BUCKET_MS)];
    if (!bucket || row.start > now.getTime()) continue;
    bucket.images += row.images;
    bucket.bytes += row.bytes;
    bucket.jobs += row.jobs;
    total.images += row.images;
    total.bytes += row.bytes;
    total.jobs += row.jobs;
    total.failedImages += row.failedImages;
  }
  return { since: new Date(firstStart).toISOString(), bucketMs: THROUGHPUT_BUCKET_MS, buckets, total };
}
