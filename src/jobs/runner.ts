// Runs queued jobs: up to `concurrency` at once, failures retried with backoff up to a limit, live progress
// kept in memory, and a stop that lets running jobs finish within a grace period.
import type winston from 'winston';
import type { ImageResult } from '../copy/index.js';
import type { Job, JobProgress, JobStore } from './types.js';

export interface JobOutcome {
  results: ImageResult[];
  /** Nothing was there to copy, and why. */
  skipped?: string;
}

/** Failures that another attempt cannot fix: the job fails at once instead of retrying for minutes. */
const PERMANENT_CODES = new Set(['NAME_INVALID', 'CONVERSION_IMPOSSIBLE', 'UNSUPPORTED_SCHEMA1', 'DIGEST_MISMATCH', 'PLATFORM_NOT_FOUND']);

export type Verdict = { state: 'succeeded' } | { state: 'skipped'; reason: string } | { state: 'failed'; reason: string; permanent: boolean };

/** What a handler's outcome makes of the job; any failed image fails the attempt. */
export function judge(outcome: JobOutcome): Verdict {
  const failed = outcome.results.filter((r) => r.status === 'failed');
  if (failed.length > 0) {
    const permanent = failed.every((r) => r.errorCode !== undefined && PERMANENT_CODES.has(r.errorCode));
    return { state: 'failed', reason: `${failed.length} of ${outcome.results.length} images failed: ${failed[0]!.reason}`, permanent };
  }
  return outcome.skipped ? { state: 'skipped', reason: outcome.skipped } : { state: 'succeeded' };
}

/** Errors marked `permanent` (a namespace owned by another account) are not worth another attempt. */
export function isPermanent(error: unknown): boolean {
  return (error as { permanent?: boolean } | undefined)?.permanent === true;
}

/** The wait before attempt `attempts + 1`: doubling from the base, capped. */
export function retryDelay(attempts: number, baseMs = 5000, maxMs = 600_000): number {
  return Math.min(maxMs, baseMs * 2 ** (attempts - 1));
}

export type JobHandler = (job: Job, progress: (p: JobProgress) => void) => Promise<JobOutcome>;

export interface RunnerOptions {
  concurrency: number;
  retries: number;
  pollMs?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Told when a job reaches a final state (succeeded, skipped or failed for good). */
  onSettled?: (id: string) => void;
}

export class JobRunner {
  private readonly running = new Map<string, Promise<void>>();
  private readonly live = new Map<string, JobProgress>();
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;

  constructor(
    private readonly store: JobStore,
    private readonly handler: JobHandler,
    private readonly options: RunnerOptions,
    private readonly log: winston.Logger,
  ) {}

  start(): void {
    const requeued = this.store.requeueRunning();
    if (requeued > 0) this.log.info(`resuming ${requeued} job(s) that were running when the service last stopped`);
    this.schedule(0);
  }

  /** New work is in the store: look now instead of at the next poll. */
  wake(): void {
    if (!this.stopping) this.schedule(0);
  }

  progress(id: string): JobProgress | undefined {
    return this.live.get(id);
  }

  get busy(): number {
    return this.running.size;
  }

  /** Takes no new jobs, waits up to `graceMs` for running ones; those still running stay recorded as running and resume at the next start. */
  async stop(graceMs: number): Promise<number> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    const all = Promise.all(this.running.values());
    await Promise.race([all, new Promise((resolve) => setTimeout(resolve, graceMs).unref())]);
    return this.running.size;
  }

  private schedule(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.fill(), ms);
    this.timer.unref();
  }

  private fill(): void {
    this.timer = undefined;
    if (this.stopping) return;
    try {
      while (this.running.size < this.options.concurrency) {
        const job = this.store.claimNext(new Date());
        if (!job) break;
        const run = this.execute(job).finally(() => {
          this.running.delete(job.id);
          this.live.delete(job.id);
          this.wake();
        });
        this.running.set(job.id, run);
      }
    } catch (error) {
      this.log.error(`cannot read the job store: ${(error as Error).message}`);
    }
    this.schedule(this.options.pollMs ?? 1000);
  }

  private async execute(job: Job): Promise<void> {
    try {
      await this.executeAndRecord(job);
    } catch (error) {
      // Only the store can fail here (closed at shutdown, disk full): the job stays 'running' and resumes at the next start.
      this.log.error(`could not record the outcome: ${(error as Error).message}`, { jobId: job.id });
    }
  }

  private async executeAndRecord(job: Job): Promise<void> {
    this.log.info(`started: ${describeJob(job)}, attempt ${job.attempts}`, { jobId: job.id });
    this.live.set(job.id, { imagesTotal: 0, imagesDone: 0, bytesUploaded: 0 });
    let outcome: JobOutcome;
    try {
      outcome = await this.handler(job, (p) => this.live.set(job.id, p));
    } catch (error) {
      this.failOrRetry(job, [], (error as Error).message, isPermanent(error));
      return;
    }
    const verdict = judge(outcome);
    if (verdict.state === 'failed') {
      this.failOrRetry(job, outcome.results, verdict.reason, verdict.permanent);
      return;
    }
    if (verdict.state === 'skipped') {
      this.store.finish(job.id, 'skipped', outcome.results, verdict.reason);
      this.log.info(`skipped: ${verdict.reason}`, { jobId: job.id });
    } else {
      this.store.finish(job.id, 'succeeded', outcome.results);
      this.log.info(`succeeded: ${outcome.results.length} image(s)`, { jobId: job.id });
    }
    this.options.onSettled?.(job.id);
  }

  private failOrRetry(job: Job, results: ImageResult[], reason: string, permanent: boolean): void {
    if (this.stopping) {
      // Past the grace period the service closes its registry clients under the running copies: a failure now is
      // the stop's doing, not the job's. Leave it recorded as running so that the next start resumes it, instead
      // of spending an attempt (or failing it for good on its last one).
      this.log.warn(`interrupted by the stop (${reason}); it resumes at the next start`, { jobId: job.id });
      return;
    }
    if (!permanent && job.attempts <= this.options.retries) {
      const delay = retryDelay(job.attempts, this.options.backoffBaseMs, this.options.backoffMaxMs);
      this.store.retryLater(job.id, new Date(Date.now() + delay), results, reason);
      this.log.warn(`failed (attempt ${job.attempts}), retrying in ${Math.round(delay / 1000)} s: ${reason}`, { jobId: job.id });
      return;
    }
    this.store.finish(job.id, 'failed', results, reason);
    this.log.error(`failed after ${job.attempts} attempts: ${reason}`, { jobId: job.id });
    this.options.onSettled?.(job.id);
  }
}

export function describeJob(job: Job): string {
  const spec = job.spec;
  if (spec.kind === 'image') return `image ${spec.project}/${spec.repository}@${spec.digest} -> ${spec.namespace}`;
  return `project ${spec.project} -> ${spec.namespace}${spec.dryRun ? ' (dry run)' : ''}`;
}
