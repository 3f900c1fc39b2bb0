// The multi-replica queue: jobs in Redis through BullMQ, so any replica can take a webhook and any replica
// can run the job, exactly once. BullMQ's job lock hands the job of a replica that died to another one once
// the lock expires. De-duplication per copy key, the pending pushes and job outcomes live beside it in Redis.
import { createHash, randomUUID } from 'node:crypto';
import { Queue, UnrecoverableError, Worker, type Job as BullJob } from 'bullmq';
import type { Redis } from 'ioredis';
import type winston from 'winston';
import type { ImageResult } from '../copy/index.js';
import { oneLine } from '../logging/one-line.js';
import { withTimeout } from '../redis/connection.js';
import { DUPLICATE_WINDOW_MS, mergeTags } from './dedupe.js';
import type { JobQueue, JobView, QueueStartOptions } from './queue.js';
import { describeJob, isPermanent, judge, retryDelay, type JobOutcome } from './runner.js';
import { DEFAULT_JOB_RETENTION, type JobRetention } from './sqlite-prune.js';
import { tallyJobs, type ThroughputRow } from './throughput.js';
import type { EnqueueOutcome, Job, JobFilter, JobProgress, JobSpec, JobState, PendingPush } from './types.js';

interface JobData {
  spec: JobSpec;
  dedupeKey?: string;
  /** Results of the last failed attempt, so the API shows them while the job waits for its retry. */
  results?: ImageResult[];
}

type BullState = Awaited<ReturnType<BullJob['getState']>>;

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
/**
 * How long a request waits for Redis. The client queues commands while Redis is away (as BullMQ needs), so
 * without a bound a webhook would hang; with it, the webhook is answered 503 and Harbor sends it again.
 */
const REDIS_ANSWER_MS = 5_000;
const QUEUED_STATES = ['waiting', 'delayed', 'prioritized', 'waiting-children'] as const;
/** How many jobs a listing reads from Redis before filtering by project. */
const SCAN_LIMIT = 2000;

// Compare-and-set: a replica replaces the key's job only if no other replica replaced it first.
const SWAP = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2]) end
  return 1 end
return 0`;
// Called when a job is final: a success keeps answering duplicates for a while, a failure stops at once.
const SETTLE = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  if ARGV[2] == '0' then redis.call('DEL', KEYS[1]) else redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
end
return 0`;

export class BullQueue implements JobQueue {
  readonly backend = 'redis' as const;
  private readonly queue: Queue<JobData, JobOutcome>;
  private worker: Worker<JobData, JobOutcome> | undefined;
  private stopping = false;
  private readonly running = new Set<string>();
  /** BullMQ's removeOnComplete/removeOnFail: age in seconds, at most `count` jobs. */
  private readonly keep: { age: number; count: number };

  constructor(
    private readonly redis: Redis,
    private readonly options: BullQueueOptions,
    private readonly log: winston.Logger,
  ) {
    this.queue = new Queue(QUEUE_NAME, { connection: redis, prefix: options.prefix });
    const retention = options.retention ?? DEFAULT_JOB_RETENTION;
    this.keep = { age: retention.days * 24 * 3600, count: retention.count };
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
      if (!mergeTags(existing.data.spec, spec) && state !== 'failed') return { job: this.toJob(existing, state), merged: true };
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
      if (!merged) return this.toJob(fresh, 'waiting');
      await fresh.updateData({ ...fresh.data, spec: merged });
      const after = await fresh.getState();
      return (QUEUED_STATES as readonly string[]).includes(after) ? this.toJob(fresh, after, merged) : undefined;
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
    return this.toJob(job, delay > 0 ? 'delayed' : 'waiting');
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

  async addPendingPush(push: Omit<PendingPush, 'id' | 'receivedAt'>): Promise<void> {
    const field = [push.project, push.repository, push.digest].join('\n');
    await withTimeout(this.redis.hsetnx(this.key('pending'), field, JSON.stringify({ namespace: push.namespace, receivedAt: new Date().toISOString() })), REDIS_ANSWER_MS, 'recording a push');
  }

  async pendingPushesBefore(cutoff: Date): Promise<PendingPush[]> {
    const [, flat] = await this.redis.hscan(this.key('pending'), 0, 'COUNT', 500);
    const out: PendingPush[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const [project, repository, digest] = flat[i]!.split('\n');
      const { namespace, receivedAt } = JSON.parse(flat[i + 1]!) as { namespace: string; receivedAt: string };
      if (new Date(receivedAt) <= cutoff) out.push({ id: flat[i]!, project: project!, repository: repository!, digest: digest!, namespace, receivedAt });
    }
    return out;
  }

  async removePendingPush(id: string): Promise<void> {
    await this.redis.hdel(this.key('pending'), id);
  }

  async get(id: string): Promise<JobView | undefined> {
    const job = await withTimeout(this.queue.getJob(id), REDIS_ANSWER_MS, 'reading a job');
    return job ? this.toJob(job, await job.getState()) : undefined;
  }

  async list(filter: JobFilter): Promise<JobView[]> {
    const limit = filter.limit ?? 100;
    const states: Array<[JobState, readonly string[]]> = [
      ['queued', QUEUED_STATES],
      ['running', ['active']],
      ['succeeded', ['completed']],
      ['failed', ['failed']],
    ];
    const jobs: JobView[] = [];
    for (const [state, types] of states) {
      if (filter.state && filter.state !== state && !(filter.state === 'skipped' && state === 'succeeded')) continue;
      for (const type of types) {
        // Filters applied after reading (project; skipped vs succeeded among completed) need reading ahead.
        const readAhead = filter.project || filter.state === 'skipped' || filter.state === 'succeeded';
        const found = await withTimeout(this.queue.getJobs([type as 'waiting'], 0, (readAhead ? SCAN_LIMIT : limit) - 1, false), REDIS_ANSWER_MS, 'listing jobs');
        for (const j of found) if (j) jobs.push(this.toJob(j as BullJob<JobData, JobOutcome>, type as BullState));
      }
    }
    // The lists are read one after another while jobs move between them: a job seen twice is kept in its
    // later state (queued, then running, then final).
    const latest = new Map<string, JobView>();
    const stage = (j: JobView) => (j.state === 'queued' ? 0 : j.state === 'running' ? 1 : 2);
    for (const j of jobs) {
      const seen = latest.get(j.id);
      if (!seen || stage(j) > stage(seen)) latest.set(j.id, j);
    }
    return [...latest.values()]
      .filter((j) => (!filter.state || j.state === filter.state) && (!filter.project || j.project === filter.project))
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
      .slice(0, limit);
  }

  async finishedSince(since: Date): Promise<Job[]> {
    const out: Job[] = [];
    for (const state of ['completed', 'failed'] as const) {
      for (const j of await withTimeout(this.queue.getJobs([state], 0, SCAN_LIMIT - 1, false), REDIS_ANSWER_MS, 'listing jobs')) {
        if (j && (j.finishedOn ?? 0) >= since.getTime()) out.push(this.toJob(j as BullJob<JobData, JobOutcome>, state));
      }
    }
    return out.sort((a, b) => (a.finishedAt ?? '').localeCompare(b.finishedAt ?? ''));
  }

  /** No counters in Redis: tallied in memory over the jobs finishedSince already reads (at most SCAN_LIMIT per state). */
  async throughputSince(since: Date): Promise<ThroughputRow[]> {
    return tallyJobs(await this.finishedSince(since), since);
  }

  async counts(): Promise<Record<JobState, number>> {
    const raw = await withTimeout(this.queue.getJobCounts(...QUEUED_STATES, 'active', 'completed', 'failed'), REDIS_ANSWER_MS, 'counting jobs');
    const skippedKey = this.key('skipped');
    await withTimeout(this.redis.zremrangebyscore(skippedKey, '-inf', Date.now() - this.keep.age * 1000), REDIS_ANSWER_MS, 'counting jobs');
    const skipped = await withTimeout(this.redis.zcard(skippedKey), REDIS_ANSWER_MS, 'counting jobs');
    const queued = QUEUED_STATES.reduce((n, s) => n + (raw[s] ?? 0), 0);
    return { queued, running: raw.active ?? 0, succeeded: Math.max(0, (raw.completed ?? 0) - skipped), skipped, failed: raw.failed ?? 0 };
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
      let job = this.toJob(bull, 'active');
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
    let last = 0;
    let pending: JobProgress | undefined;
    let timer: NodeJS.Timeout | undefined;
    const flush = () => {
      timer = undefined;
      last = Date.now();
      if (pending) void bull.updateProgress({ ...pending }).catch(() => undefined);
    };
    return (p) => {
      pending = p;
      if (timer) return;
      const wait = Math.max(0, 1000 - (Date.now() - last));
      timer = setTimeout(flush, wait);
      timer.unref();
    };
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

  private toJob(bull: BullJob<JobData, JobOutcome>, state: BullState, spec: JobSpec = bull.data.spec): JobView {
    const returned = bull.returnvalue as JobOutcome | null | undefined;
    let ours: JobState;
    if (state === 'active') ours = 'running';
    else if (state === 'completed') ours = returned?.skipped ? 'skipped' : 'succeeded';
    else if (state === 'failed') ours = 'failed';
    else ours = 'queued';
    const times = [bull.timestamp, bull.processedOn ?? 0, bull.finishedOn ?? 0];
    const final = ours === 'succeeded' || ours === 'skipped' || ours === 'failed';
    const progress = ours === 'running' && typeof bull.progress === 'object' ? (bull.progress as unknown as JobProgress) : undefined;
    return {
      id: bull.id!,
      kind: spec.kind,
      state: ours,
      project: spec.project,
      spec,
      // Starts, as the SQLite store counts claims: an attempt cut short by a dead replica counts too.
      attempts: bull.attemptsStarted || bull.attemptsMade,
      createdAt: new Date(bull.timestamp).toISOString(),
      updatedAt: new Date(Math.max(...times)).toISOString(),
      startedAt: bull.processedOn ? new Date(bull.processedOn).toISOString() : undefined,
      finishedAt: final && bull.finishedOn ? new Date(bull.finishedOn).toISOString() : undefined,
      notBefore: new Date(bull.timestamp + (bull.delay ?? 0)).toISOString(),
      error: ours === 'skipped' ? returned?.skipped : bull.failedReason || undefined,
      results: returned?.results ?? bull.data.results ?? [],
      ...(progress ? { progress } : {}),
    };
  }
}
