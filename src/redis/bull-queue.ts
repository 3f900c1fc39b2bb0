// The multi-replica queue: jobs in Redis through BullMQ, so any replica can take a webhook and any replica
// can run the job, exactly once. BullMQ's job lock hands the job of a replica that died to another one once
// the lock expires. De-duplication per copy key, the pending pushes and job outcomes live beside it in Redis.
import { randomUUID } from 'node:crypto';
import { Queue, UnrecoverableError, WaitingError, Worker, type Job as BullJob } from 'bullmq';
import type { Redis } from 'ioredis';
import type winston from 'winston';
import { logDone, logFailedAttempt, logStarted } from '../jobs/attempt-log.js';
import { isPermanent, jobRetryPolicy, judge, mergeTags, retryDelay } from '../jobs/policy.js';
import type { JobLockStats, JobQueue, JobView, QueueStartOptions } from '../jobs/queue.js';
import { DEFAULT_JOB_RETENTION, type JobRetention } from '../jobs/retention.js';
import type { ThroughputRow } from '../jobs/throughput.js';
import type {
  EnqueueOutcome,
  Job,
  JobFilter,
  JobOutcome,
  JobProgress,
  JobSpec,
  JobState,
  PendingPush,
} from '../jobs/types.js';
import { mapStrings, oneLine } from '../logging/one-line.js';
import { systemClock, type Clock } from '../oci/clock.js';
import { BullDedupe } from './bull-dedupe.js';
import { BullJobReads, REDIS_ANSWER_MS, toJob, type JobData } from './bull-jobs.js';
import { RedisPendingPushes } from './bull-pending.js';
import { withTimeout } from './connection.js';
import { throttled } from './progress-throttle.js';
import { ReplicaHeartbeat } from './replica-heartbeat.js';

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
  clock?: Clock;
}

const QUEUE_NAME = 'jobs';
/** How long a stop waits, after aborting the jobs still running, for them to hand themselves back to the queue. */
const HAND_BACK_MS = 1000;
/** How often each replica says it is there (swr_harbor_sync_replicas forgets it after three silent beats). */
const REPLICA_BEAT_MS = 10_000;

export class BullQueue implements JobQueue {
  readonly backend = 'redis' as const;
  private readonly queue: Queue<JobData, JobOutcome>;
  private worker: Worker<JobData, JobOutcome> | undefined;
  private stopping = false;
  /** Jobs running here, each with what aborts it when the stop's grace period is over. */
  private readonly running = new Map<string, AbortController>();
  /** BullMQ's removeOnComplete/removeOnFail: age in seconds, at most `count` jobs. */
  private readonly keep: { age: number; count: number };
  private readonly reads: BullJobReads;
  private readonly pending: RedisPendingPushes;
  private readonly dedupe: BullDedupe;
  private readonly clock: Clock;
  private readonly heartbeat: ReplicaHeartbeat;
  private readonly lockCounts = { renewed: 0, failed: 0 };

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
    this.clock = options.clock ?? systemClock;
    this.dedupe = new BullDedupe(this.queue, redis, this.key('dedupe'), this.clock);
    this.heartbeat = new ReplicaHeartbeat(redis, this.key('replicas'), this.clock, REPLICA_BEAT_MS, REDIS_ANSWER_MS);
  }

  get locks(): JobLockStats {
    return { held: this.running.size, ...this.lockCounts };
  }

  replicas(): Promise<number> {
    return this.heartbeat.count();
  }

  private key(name: string): string {
    return `${this.options.prefix}:${name}`;
  }

  enqueue(spec: JobSpec, dedupeKey: string | undefined, notBefore?: Date): Promise<EnqueueOutcome> {
    const added = dedupeKey
      ? this.dedupe.enqueue(spec, dedupeKey, (id) => this.add(id, spec, dedupeKey, notBefore))
      : this.add(randomUUID(), spec, undefined, notBefore).then((job) => ({ job, merged: false }));
    return withTimeout(added, REDIS_ANSWER_MS, 'recording a job');
  }

  private async add(id: string, spec: JobSpec, dedupeKey: string | undefined, notBefore?: Date): Promise<Job> {
    const delay = notBefore ? Math.max(0, notBefore.getTime() - this.clock.now()) : 0;
    const job = await this.queue.add(
      spec.kind,
      { spec, dedupeKey },
      {
        jobId: id,
        delay,
        attempts: this.options.retries + 1,
        backoff: { type: 'capped-exponential' },
        removeOnComplete: this.keep,
        removeOnFail: this.keep,
      },
    );
    return toJob(job, delay > 0 ? 'delayed' : 'waiting');
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

  throughputSince(since: Date): Promise<ThroughputRow[]> {
    return this.reads.throughputSince(since);
  }

  counts(): Promise<Record<JobState, number>> {
    return this.reads.counts();
  }

  async probeWrite(): Promise<void> {
    const answer = await withTimeout(
      this.redis.set(this.key('probe'), new Date().toISOString(), 'PX', 60_000),
      REDIS_ANSWER_MS,
      'a test write',
    );
    if (answer !== 'OK') throw new Error(`Redis refused a write (${String(answer)})`);
  }

  async start(options: QueueStartOptions): Promise<void> {
    const { backoffBaseMs, backoffMaxMs, lockMs, concurrency, retries } = this.options;
    this.worker = new Worker<JobData, JobOutcome>(QUEUE_NAME, (job, token) => this.process(job, options, token), {
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
      // During a stop too: a job cut off by it is handed back (WaitingError), not failed, so this is its own failure.
      if (!job) return;
      // The job's own attempt limit, as BullMQ counts it (the replica that added it may have had other settings).
      const policy = jobRetryPolicy({ retries: (job.opts.attempts ?? 1) - 1, backoffBaseMs, backoffMaxMs });
      const decision = policy.decide(job.attemptsMade, {
        state: 'failed',
        reason: error.message,
        permanent: error instanceof UnrecoverableError,
      });
      logFailedAttempt(this.log, job.id!, job.attemptsMade, decision, error.message);
      if (!decision.retry) {
        void this.dedupe.settle(job, false);
        options.onSettled?.(job.id!);
      }
    });
    this.worker.on('error', (error) => this.log.error(`job queue (Redis): ${error.message}`));
    // A job whose lock could not be renewed may be another replica's by now: stop this replica's copy of it.
    this.worker.on('locksRenewed', ({ count }) => (this.lockCounts.renewed += count));
    this.worker.on('lockRenewalFailed', (ids) => {
      this.lockCounts.failed += ids.length;
      for (const id of ids)
        this.running.get(id)?.abort(new Error("lost the job's lock in Redis: another replica may be running it"));
    });
    await this.worker.waitUntilReady();
    this.heartbeat.start();
  }

  private async process(
    bull: BullJob<JobData, JobOutcome>,
    options: QueueStartOptions,
    token?: string,
  ): Promise<JobOutcome> {
    const id = bull.id!;
    const cancel = new AbortController();
    this.running.set(id, cancel);
    try {
      let job = toJob(bull, 'active');
      logStarted(this.log, job);
      let outcome: JobOutcome;
      try {
        outcome = await options.handler(job, this.progressReporter(bull), cancel.signal);
        // Tags merged into the job after this worker read it: copy those too before calling the job done.
        for (let i = 0; i < 3; i++) {
          const fresh = await this.queue.getJob(id);
          const extra = fresh && mergeTags(job.spec, fresh.data.spec) ? fresh.data.spec : undefined;
          if (!extra || extra.kind !== 'image' || job.spec.kind !== 'image') break;
          const known = new Set(job.spec.tags);
          job = { ...job, spec: extra };
          // Without the previous attempt's results: the first call made the deletion they left to make.
          const more = await options.handler(
            { ...job, spec: { ...extra, tags: extra.tags.filter((t) => !known.has(t)) }, results: [] },
            this.progressReporter(bull),
            cancel.signal,
          );
          outcome = { results: [...outcome.results, ...more.results], skipped: outcome.skipped && more.skipped };
        }
      } catch (error) {
        if (this.stopping && cancel.signal.aborted) return await this.leaveForNextOwner(bull, token);
        // BullMQ stores the message as the job's error: one capped line, as the SQLite store keeps it.
        const message = oneLine((error as Error).message ?? String(error));
        if (isPermanent(error)) throw new UnrecoverableError(message);
        throw message === (error as Error).message ? error : new Error(message);
      }
      // Cut off by the stop: another owner takes it without an attempt spent. A failure of its own is recorded.
      if (this.stopping && cancel.signal.aborted && judge(outcome).state === 'failed')
        return await this.leaveForNextOwner(bull, token);
      const verdict = judge(outcome);
      outcome = mapStrings(outcome, (text) => oneLine(text)); // stored by BullMQ as the job's results: one capped line each
      if (verdict.state === 'failed') {
        await bull.updateData({ ...bull.data, spec: job.spec, results: outcome.results });
        throw verdict.permanent ? new UnrecoverableError(oneLine(verdict.reason)) : new Error(oneLine(verdict.reason));
      }
      if (verdict.state === 'skipped') {
        // Kept like completed jobs (JobRetentionDays, at most JobRetentionCount), so that succeeded = completed - skipped holds.
        await this.redis.zadd(this.key('skipped'), this.clock.now(), id);
        await this.redis.zremrangebyrank(this.key('skipped'), 0, -(this.keep.count + 1));
      }
      logDone(this.log, id, verdict, outcome.results.length);
      await this.dedupe.settle(bull, true);
      options.onSettled?.(id);
      return outcome;
    } finally {
      this.running.delete(id);
    }
  }

  /**
   * Past the grace period the stop aborts the job's signal: the failure is the stop's doing, not the job's. The
   * job goes back to the waiting list without spending an attempt, so another replica (or this one's next start)
   * takes it at once; WaitingError tells BullMQ the job has been moved. Should Redis refuse the move, the job
   * stays active under a lock nobody renews, and is taken over when that lock expires.
   */
  private async leaveForNextOwner(bull: BullJob<JobData, JobOutcome>, token: string | undefined): Promise<never> {
    await bull.moveToWait(token).catch(() => undefined);
    throw new WaitingError();
  }

  private progressReporter(bull: BullJob<JobData, JobOutcome>): (p: JobProgress) => void {
    // At most one Redis write a second per job: progress is for people watching, not for bookkeeping.
    return throttled(1000, (p) => void bull.updateProgress({ ...p }).catch(() => undefined));
  }

  get busy(): number {
    return this.running.size;
  }

  async stop(graceMs: number): Promise<number> {
    this.stopping = true;
    await this.heartbeat.stop();
    if (!this.worker) return 0;
    const worker = this.worker;
    // Take no new job, wait up to the grace period for the running ones, then close once: BullMQ's close()
    // answers every later call with the first call's promise, so a gentle close could never be forced after.
    await worker.pause(true);
    const deadline = this.clock.now() + graceMs;
    while (this.running.size > 0 && this.clock.now() < deadline)
      await this.clock.sleep(Math.min(100, deadline - this.clock.now()));
    const left = this.running.size;
    for (const running of this.running.values()) running.abort(new Error('the service is stopping'));
    // Aborted jobs hand themselves back to the queue within moments (leaveForNextOwner): give them that long.
    // One that does not answer its signal keeps its lock until it expires, and the close is forced.
    const handBack = this.clock.now() + HAND_BACK_MS;
    while (this.running.size > 0 && this.clock.now() < handBack) await this.clock.sleep(50);
    await worker.close(this.running.size > 0);
    return left;
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
