// How BullMQ's jobs read as ours: the job data we store, BullMQ's states mapped to our JobState, and the reads
// the API and the status page make (one job, listings, counts, the last hour's finished jobs and throughput).
import type { Queue, Job as BullJob } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ImageResult } from '../copy/index.js';
import { withTimeout } from './connection.js';
import type { JobView } from '../jobs/queue.js';
import { tallyJobs, type ThroughputRow } from '../jobs/throughput.js';
import type { Job, JobFilter, JobOutcome, JobProgress, JobSpec, JobState } from '../jobs/types.js';

export interface JobData {
  spec: JobSpec;
  dedupeKey?: string;
  /** Results of the last failed attempt, so the API shows them while the job waits for its retry. */
  results?: ImageResult[];
}

export type BullState = Awaited<ReturnType<BullJob['getState']>>;

/**
 * How long a request waits for Redis. The client queues commands while Redis is away (as BullMQ needs), so
 * without a bound a webhook would hang; with it, the webhook is answered 503 and Harbor sends it again.
 */
export const REDIS_ANSWER_MS = 5_000;
export const QUEUED_STATES = ['waiting', 'delayed', 'prioritized', 'waiting-children'] as const;
/** How many jobs a listing reads from Redis before filtering by project. */
const SCAN_LIMIT = 2000;

export class BullJobReads {
  constructor(
    private readonly queue: Queue<JobData, JobOutcome>,
    private readonly redis: Redis,
    /** Skipped jobs by finish time: BullMQ counts them as completed. */
    private readonly skippedKey: string,
    /** Finished jobs' age limit in seconds (JobRetentionDays). */
    private readonly keepAgeSeconds: number,
  ) {}

  async get(id: string): Promise<JobView | undefined> {
    const job = await withTimeout(this.queue.getJob(id), REDIS_ANSWER_MS, 'reading a job');
    return job ? toJob(job, await job.getState()) : undefined;
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
        const found = await withTimeout(
          this.queue.getJobs([type as 'waiting'], 0, (readAhead ? SCAN_LIMIT : limit) - 1, false),
          REDIS_ANSWER_MS,
          'listing jobs',
        );
        for (const j of found) if (j) jobs.push(toJob(j, type as BullState));
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
      for (const j of await withTimeout(
        this.queue.getJobs([state], 0, SCAN_LIMIT - 1, false),
        REDIS_ANSWER_MS,
        'listing jobs',
      )) {
        if (j && (j.finishedOn ?? 0) >= since.getTime()) out.push(toJob(j, state));
      }
    }
    return out.sort((a, b) => (a.finishedAt ?? '').localeCompare(b.finishedAt ?? ''));
  }

  /** No counters in Redis: tallied in memory over the jobs finishedSince already reads (at most SCAN_LIMIT per state). */
  async throughputSince(since: Date): Promise<ThroughputRow[]> {
    return tallyJobs(await this.finishedSince(since), since);
  }

  async counts(): Promise<Record<JobState, number>> {
    const raw = await withTimeout(
      this.queue.getJobCounts(...QUEUED_STATES, 'active', 'completed', 'failed'),
      REDIS_ANSWER_MS,
      'counting jobs',
    );
    const skippedKey = this.skippedKey;
    await withTimeout(
      this.redis.zremrangebyscore(skippedKey, '-inf', Date.now() - this.keepAgeSeconds * 1000),
      REDIS_ANSWER_MS,
      'counting jobs',
    );
    const skipped = await withTimeout(this.redis.zcard(skippedKey), REDIS_ANSWER_MS, 'counting jobs');
    const queued = QUEUED_STATES.reduce((n, s) => n + (raw[s] ?? 0), 0);
    return {
      queued,
      running: raw.active ?? 0,
      succeeded: Math.max(0, (raw.completed ?? 0) - skipped),
      skipped,
      failed: raw.failed ?? 0,
    };
  }
}

export function toJob(bull: BullJob<JobData, JobOutcome>, state: BullState, spec: JobSpec = bull.data.spec): JobView {
  const returned = bull.returnvalue as JobOutcome | null | undefined;
  let ours: JobState;
  if (state === 'active') ours = 'running';
  else if (state === 'completed') ours = returned?.skipped ? 'skipped' : 'succeeded';
  else if (state === 'failed') ours = 'failed';
  else ours = 'queued';
  const times = [bull.timestamp, bull.processedOn ?? 0, bull.finishedOn ?? 0];
  const final = ours === 'succeeded' || ours === 'skipped' || ours === 'failed';
  const progress =
    ours === 'running' && typeof bull.progress === 'object' ? (bull.progress as unknown as JobProgress) : undefined;
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
