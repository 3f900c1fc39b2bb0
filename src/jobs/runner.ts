// Runs queued jobs: up to `concurrency` at once, failures retried with backoff up to a limit, live progress
// kept in memory, and a stop that lets running jobs finish within a grace period.
import type winston from 'winston';
import type { ImageResult } from '../copy/index.js';
import { systemClock, type Clock } from '../oci/clock.js';
import type { RetryPolicy } from '../oci/retry.js';
import { logDone, logFailedAttempt, logInterrupted, logStarted } from './attempt-log.js';
import { judge, judgeError, jobRetryPolicy, type FailedVerdict, type Verdict } from './policy.js';
import type { Job, JobHandler, JobProgress, JobStore } from './types.js';

export interface RunnerOptions {
  concurrency: number;
  retries: number;
  pollMs?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Told when a job reaches a final state (succeeded, skipped or failed for good). */
  onSettled?: (id: string) => void;
  /** Whether a failed attempt is tried again, and when; by default the job policy with the options above. */
  retryPolicy?: RetryPolicy<FailedVerdict>;
  clock?: Clock;
}

export class JobRunner {
  private readonly running = new Map<string, Promise<void>>();
  private readonly live = new Map<string, JobProgress>();
  /** Aborted when the stop's grace period is over while the job still runs. */
  private readonly cancels = new Map<string, AbortController>();
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  private readonly clock: Clock;
  private readonly retryPolicy: RetryPolicy<FailedVerdict>;

  constructor(
    private readonly store: JobStore,
    private readonly handler: JobHandler,
    private readonly options: RunnerOptions,
    private readonly log: winston.Logger,
  ) {
    this.clock = options.clock ?? systemClock;
    this.retryPolicy = options.retryPolicy ?? jobRetryPolicy(options);
  }

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
    const grace = new AbortController();
    await Promise.race([all, this.clock.sleep(graceMs, grace.signal).catch(() => undefined)]);
    grace.abort();
    for (const cancel of this.cancels.values()) cancel.abort(new Error('the service is stopping'));
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
        const job = this.store.claimNext(new Date(this.clock.now()));
        if (!job) break;
        const run = this.execute(job).finally(() => {
          this.running.delete(job.id);
          this.live.delete(job.id);
          this.cancels.delete(job.id);
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
    logStarted(this.log, job);
    this.live.set(job.id, { imagesTotal: 0, imagesDone: 0, bytesUploaded: 0 });
    const cancel = new AbortController();
    this.cancels.set(job.id, cancel);
    let results: ImageResult[] = [];
    let verdict: Verdict;
    try {
      const outcome = await this.handler(job, (p) => this.live.set(job.id, p), cancel.signal);
      results = outcome.results;
      verdict = judge(outcome);
    } catch (error) {
      verdict = judgeError(error);
    }
    if (verdict.state === 'failed') {
      this.failOrRetry(job, results, verdict, cancel.signal.aborted);
      return;
    }
    if (verdict.state === 'skipped') this.store.finish(job.id, 'skipped', results, verdict.reason);
    else this.store.finish(job.id, 'succeeded', results);
    logDone(this.log, job.id, verdict, results.length);
    this.options.onSettled?.(job.id);
  }

  private failOrRetry(job: Job, results: ImageResult[], verdict: FailedVerdict, cancelled: boolean): void {
    if (this.stopping && cancelled) {
      // Cut off by the stop: left recorded as running, so that the next start resumes it instead of spending an
      // attempt (or failing it for good on its last one). A failure of its own during the stop's grace period is
      // recorded as any other, with the results the next attempt may need (a deletion still to make).
      logInterrupted(this.log, job.id, verdict.reason);
      return;
    }
    const decision = this.retryPolicy.decide(job.attempts, verdict);
    if (decision.retry)
      this.store.retryLater(job.id, new Date(this.clock.now() + decision.delayMs), results, verdict.reason);
    else this.store.finish(job.id, 'failed', results, verdict.reason);
    logFailedAttempt(this.log, job.id, job.attempts, decision, verdict.reason);
    if (!decision.retry) this.options.onSettled?.(job.id);
  }
}
