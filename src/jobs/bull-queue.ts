// The multi-replica queue: jobs in Redis through BullMQ, so any replica can take a webhook and any replica
// can run the job, exactly once. BullMQ's job lock hands the job of a replica that died to another one once
// the lock expires. De-duplication per copy key, the pending pushes and job outcomes live beside it in Redis.
import { createHash, randomUUID } from 'node:crypto';
import { Queue, UnrecoverableError, Worker, type Job as BullJob } from 'bullmq';
import type { Redis } from 'ioredis';
import type winston from 'winston';
import { mapStrings, oneLine } from '../logging/one-line.js';
import { withTimeout } from '../redis/connection.js';
import { BullJobReads, QUEUED_STATES, REDIS_ANSWER_MS, toJob, type JobData } from './bull-jobs.js';
import { RedisPendingPushes } from './bull-pending.js';
import { SETTLE, SWAP } from './bull-scripts.js';
import { DUPLICATE_WINDOW_MS, mergeTags } from './dedupe.js';
import type { JobQueue, JobView, QueueStartOptions } from './queue.js';
import { throttled } from './progress-throttle.js';
import { describeJob, isPermanent, judge, retryDelay, type JobOutcome } from './runner.js';
import { DEFAULT_JOB_RETENTION, type JobRetention } from './sqlite-prune.js';
import type { ThroughputRow } from './throughput.js';
import type { EnqueueOutcome, Job, JobFilter, JobProgress, JobSpec, JobState, PendingPush } from './types.js';

export interface BullQueueOptions {
  /** Key prefix shared by every replica of one deployment. */
  prefix: string;
  concurrency: number;
  retries: number;
  /** How long a job's lock lives without renewal: a dead replica's job moves on after this. */
  lockMs: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** JobRetentionDays and JobRetentionCount: completed and failed jobs kept for the API. */
  retention?: JobRetention;
}

const QUEUE_NAME = 'jobs';

export class BullQueue implements JobQueue {
  readonly backend = 'redis' as const;
  private readonly queue: Queue<JobData, JobOutcome>;
  private worker: Worker<JobData, JobOutcome> | undefined;
  private stopping = false;
  private readonly running = new Set<string>();
  /** BullMQ's removeOnComplete/removeOnFail: age in seconds, at most `count` jobs. */
  private readonly keep: { age: number; count: number };
  private readonly reads: BullJobReads;
  private readonly pending: RedisPendingPushes;

  constructor(
    private readonly redis: Redis,
    private readonly options: BullQueueOptions,
    private readonly log: winston.Logger,
  ) {
    this.queue = new Queue(QUEUE_NAME, { connection: redis, prefix: options.prefix });
    const retention = options.retention ?? DEFAULT_JOB_RETENTION;
    this.keep = { age: retention.days * 24 * 3600, count: retention.count };
    this.reads = new BullJobReads(this.queue, redis, this.key('skipped'), this.keep.age);
    this.pending = new RedisPendingPushes(redis, this.key('pending'));
  }

  private key(name: string): string {
    return `${this.options.prefix}:${name}`;
  }

  enqueue(spec: JobSpec, dedupeKey: string | undefined, notBefore?: Date): Promise<EnqueueOutcome> {
    return withTimeout(this.enqueueNow(spec, dedupeKey, notBefore), REDIS_ANSWER_MS, 'recording a job');
  }

  private async enqueueNow(spec: JobSpec, dedupeKey: string | undefined, notBefore?: Date): Promise<EnqueueOutcome> {
    if (!dedupeKey) return { job: await this.add(randomUUID(), spec, undefined, notBefore), merged: false };
    const key = this.key(`dedupe:${createHash('sha256').update(dedupeKey).digest('hex')}`);
    for (let round = 0; round < 20; round++) {
      const id = randomUUID();
      if ((await this.redis.set(key, id, 'NX')) === 'OK') return { job: await this.add(id, spec, dedupeKey, notBefore), merged: false };
      const holder = await this.redis.get(key);
      if (!holder) continue;
      const existing = await this.waitForJob(holder);
      if (!existing) {
        // The replica that claimed the key died before adding its job: free the key and try again.
        await this.redis.eval(SWAP, 1, key, holder, '');
        continue;
      }
      const state = await existing.getState();
      if (!mergeTags(existing.data.spec, spec) && state !== 'failed') return { job: toJob(existing, state), merged: true };
      if ((QUEUED_STATES as readonly string[]).includes(state)) {
        const joined = await this.mergeIntoQueued(key, holder, spec);
        if (joined) return { job: joined, merged: true };
      }
      // Running, done without the new tag, or failed: a new job, if no other replica made one first.
      if (Number(await this.redis.eval(SWAP, 1, key, holder, id)) === 1) return { job: await this.add(id, spec, dedupeKey, notBefore), merged: false };
    }
    throw new Error(`could not record the job for ${dedupeKey}: the de-duplication key kept changing; try again`);
  }

  /**
   * Adds the request's tags to a queued job. Replicas merging into one job take turns (a short lock per key),
   * or one's write would undo another's. A job that a worker takes meanwhile may have been read without the
   * new tags: then undefined, and the caller makes a new job for them.
   */
  private async mergeIntoQueued(key: string, id: string, spec: JobSpec): Promise<Job | undefined> {
    const lock = `${key}:merging`;
    const token = randomUUID();
    for (let i = 0; (await this.redis.set(lock, token, 'PX', 5000, 'NX')) !== 'OK'; i++) {
      if (i > 250) throw new Error('another replica kept the job busy for 5 s; try again');
      await new Promise((r) => setTimeout(r, 20));
    }
    try {
      const fresh = await this.queue.getJob(id);
      if (!fresh || !(QUEUED_STATES as readonly string[]).includes(await fresh.getState())) return undefined;
      const merged = mergeTags(fresh.data.spec, spec);
      if (!merged) return toJob(fresh, 'waiting');
      await fresh.updateData({ ...fresh.data, spec: merged });
      const after = await fresh.getState();
      return (QUEUED_STATES as readonly string[]).includes(after) ? toJob(fresh, after, merged) : undefined;
    } finally {
      await this.redis.eval(SWAP, 1, lock, token, '');
    }
  }

  private async add(id: string, spec: JobSpec, dedupeKey: string | undefined, notBefore?: Date): Promise<Job> {
    const delay = notBefore ? Math.max(0, notBefore.getTime() - Date.now()) : 0;
    const job = await this.queue.add(spec.kind, { spec, dedupeKey }, {
      jobId: id,
      delay,
      attempts: this.options.retries + 1,
      backoff: { type: 'capped-exponential' },
      removeOnComplete: this.keep,
      removeOnFail: this.keep,
    });
    return toJob(job, delay > 0 ? 'delayed' : 'waiting');
  }

  /** The job behind a de-duplication key; briefly absent while the replica that claimed the key adds it. */
  private async waitForJob(id: string): Promise<BullJob<JobData, JobOutcome> | undefined> {
    for (let i = 0; i < 40; i++) {
      const job = await this.queue.getJob(id);
      if (job) return job;
      await new Promise((r) => setTimeout(r, 50));
    }
    return undefined;
  }

  addPendingPush(push: Omit<PendingPush, 'id' | 'receivedAt'>): Promise<void> {
    return this.pending.add(push);
  }

  pendingPushesBefore(cutoff: Date): Promise<PendingPush[]> {
    return this.pending.before(cutoff);
  }

  removePendingPush(id: string): Promise<void> {
    return this.pending.remove(id);
  }

  get(id: string): Promise<JobView | undefined> {
    return this.reads.get(id);
  }

  list(filter: JobFilter): Promise<JobView[]> {
    return this.reads.list(filter);
  }

  finishedSince(since: Date): Promise<Job[]> {
    return this.reads.finishedSince(since);
  }

  throughputSince(since: Date): Promise<ThroughputRow[]> {
    return this.reads.throughputSince(since);
  }

  counts(): Promise<Record<JobState, number>> {
    return this.reads.counts();
  }

  async probeWrite(): Promise<void> {
    const answer = await withTimeout(this.redis.set(this.key('probe'), new Date().toISOString(), 'PX', 60_000), REDIS_ANSWER_MS, 'a test write');
    if (answer !== 'OK') throw new Error(`Redis refused a write (${String(answer)})`);
  }

  async start(options: QueueStartOptions): Promise<void> {
    const { backoffBaseMs, backoffMaxMs, lockMs, concurrency, retries } = this.options;
    this.worker = new Worker<JobData, JobOutcome>(QUEUE_NAME, (job) => this.process(job, options), {
      connection: this.redis,
      prefix: this.options.prefix,
      concurrency,
      lockDuration: lockMs,
      stalledInterval: lockMs,
      // A replica dying mid-job is not the job's fault: it may be taken over as often as it may be retried.
      maxStalledCount: retries + 1,
      settings: { backoffStrategy: (attemptsMade: number) => retryDelay(attemptsMade, backoffBaseMs, backoffMaxMs) },
    });
    this.worker.on('failed', (job, error) => {
      if (!job || this.stopping) return;
      const final = job.attemptsMade >= (job.opts.attempts ?? 1) || error instanceof UnrecoverableError;
      if (final) {
        this.log.error(`failed after ${job.attemptsMade} attempts: ${error.message}`, { jobId: job.id });
        void this.settleKey(job, false);
        options.onSettled?.(job.id!);
      } else {
        this.log.warn(`failed (attempt ${job.attemptsMade}), retrying in ${Math.round(retryDelay(job.attemptsMade, backoffBaseMs, backoffMaxMs) / 1000)} s: ${error.message}`, { jobId: job.id });
      }
    });
    this.worker.on('error', (error) => this.log.error(`job queue (Redis): ${error.message}`));
    await this.worker.waitUntilReady();
  }

  private async process(bull: BullJob<JobData, JobOutcome>, options: QueueStartOptions): Promise<JobOutcome> {
    const id = bull.id!;
    this.running.add(id);
    try {
      let job = toJob(bull, 'active');
      this.log.info(`started: ${describeJob(job)}, attempt ${job.attempts}`, { jobId: id });
      let outcome: JobOutcome;
      try {
        outcome = await options.handler(job, this.progressReporter(bull));
        // Tags merged into the job after this worker read it: copy those too before calling the job done.
        for (let i = 0; i < 3; i++) {
          const fresh = await this.queue.getJob(id);
          const extra = fresh && mergeTags(job.spec, fresh.data.spec) ? fresh.data.spec : undefined;
          if (!extra || extra.kind !== 'image' || job.spec.kind !== 'image') break;
          const known = new Set(job.spec.tags);
          job = { ...job, spec: extra };
          const more = await options.handler({ ...job, spec: { ...extra, tags: extra.tags.filter((t) => !known.has(t)) } }, this.progressReporter(bull));
          outcome = { results: [...outcome.results, ...more.results], skipped: outcome.skipped && more.skipped };
        }
      } catch (error) {
        if (this.stopping) return this.leaveForNextOwner();
        // BullMQ stores the message as the job's error: one capped line, as the SQLite store keeps it.
        const message = oneLine((error as Error).message ?? String(error));
        if (isPermanent(error)) throw new UnrecoverableError(message);
        throw message === (error as Error).message ? error : new Error(message);
      }
      if (this.stopping && judge(outcome).state === 'failed') return this.leaveForNextOwner();
      const verdict = judge(outcome);
      outcome = mapStrings(outcome, (text) => oneLine(text)); // stored by BullMQ as the job's results: one capped line each
      if (verdict.state === 'failed') {
        await bull.updateData({ ...bull.data, spec: job.spec, results: outcome.results });
        throw verdict.permanent ? new UnrecoverableError(oneLine(verdict.reason)) : new Error(oneLine(verdict.reason));
      }
      if (verdict.state === 'skipped') {
        // Kept like completed jobs (JobRetentionDays, at most JobRetentionCount), so that succeeded = completed - skipped holds.
        await this.redis.zadd(this.key('skipped'), Date.now(), id);
        await this.redis.zremrangebyrank(this.key('skipped'), 0, -(this.keep.count + 1));
        this.log.info(`skipped: ${verdict.reason}`, { jobId: id });
      } else {
        this.log.info(`succeeded: ${outcome.results.length} image(s)`, { jobId: id });
      }
      await this.settleKey(bull, true);
      options.onSettled?.(id);
      return outcome;
    } finally {
      this.running.delete(id);
    }
  }

  /**
   * Past the grace period the service closes its registry clients under running copies: the failure is the
   * stop's doing. Never settling leaves the job active under a lock nobody renews, so another replica (or
   * this one's next start) takes it over once the lock expires, without spending an attempt.
   */
  private leaveForNextOwner(): Promise<JobOutcome> {
    return new Promise(() => undefined);
  }

  private progressReporter(bull: BullJob<JobData, JobOutcome>): (p: JobProgress) => void {
    // At most one Redis write a second per job: progress is for people watching, not for bookkeeping.
    return throttled(1000, (p) => void bull.updateProgress({ ...p }).catch(() => undefined));
  }

  private async settleKey(bull: BullJob<JobData, JobOutcome>, succeeded: boolean): Promise<void> {
    if (!bull.data.dedupeKey) return;
    const key = this.key(`dedupe:${createHash('sha256').update(bull.data.dedupeKey).digest('hex')}`);
    await this.redis.eval(SETTLE, 1, key, bull.id!, succeeded ? String(DUPLICATE_WINDOW_MS) : '0').catch(() => undefined);
  }

  wake(): void {
    // BullMQ workers block on Redis for new jobs: nothing to do.
  }

  get busy(): number {
    return this.running.size;
  }

  async stop(graceMs: number): Promise<number> {
    this.stopping = true;
    if (!this.worker) return 0;
    const worker = this.worker;
    // Take no new job, wait up to the grace period for the running ones, then close once: BullMQ's close()
    // answers every later call with the first call's promise, so a gentle close could never be forced after.
    await worker.pause(true);
    const deadline = Date.now() + graceMs;
    while (this.running.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, Math.min(100, deadline - Date.now())));
    const left = this.running.size;
    // Forced: jobs still running keep their lock until it expires, then another replica (or the next start) takes them.
    await worker.close(left > 0);
    return left;
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
