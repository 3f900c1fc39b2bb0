// The single-instance queue: the embedded SQLite store (a job or pending push is committed before its promise
// resolves, so before a webhook is answered; concurrent ones share a commit) and the in-process runner.
import type winston from 'winston';
import type { JobQueue, JobView, QueueStartOptions } from '../jobs/queue.js';
import { JobRunner, type RunnerOptions } from '../jobs/runner.js';
import { DEFAULT_JOB_RETENTION, type JobRetention } from '../jobs/retention.js';
import { GroupCommit } from './group-commit.js';
import { schedulePruning } from './prune.js';
import { SqliteJobStore } from './store.js';
import type { ThroughputRow } from '../jobs/throughput.js';
import type { EnqueueOutcome, Job, JobFilter, JobSpec, JobState, PendingPush } from '../jobs/types.js';

export class SqliteQueue implements JobQueue {
  readonly backend = 'sqlite' as const;
  readonly store: SqliteJobStore;
  /** The intake's writes, grouped: `groupCommit.stats` counts the commits (one fsync each). */
  readonly groupCommit: GroupCommit;
  private runner: JobRunner | undefined;
  private stopPruning: (() => void) | undefined;

  constructor(
    dataDir: string,
    private readonly runnerOptions: Omit<RunnerOptions, 'onSettled'>,
    private readonly log: winston.Logger,
    private readonly retention: JobRetention = DEFAULT_JOB_RETENTION,
  ) {
    this.store = new SqliteJobStore(dataDir);
    this.groupCommit = new GroupCommit(this.store.db);
  }

  /** Wakes the runner too: the job can start now rather than at the next poll (BullMQ's workers need no such call). */
  async enqueue(spec: JobSpec, dedupeKey: string | undefined, notBefore?: Date): Promise<EnqueueOutcome> {
    const outcome = await this.groupCommit.run(() => this.store.enqueue(spec, dedupeKey, notBefore));
    this.runner?.wake();
    return outcome;
  }

  async addPendingPush(push: Omit<PendingPush, 'id' | 'receivedAt'>): Promise<void> {
    await this.groupCommit.run(() => this.store.addPendingPush(push));
  }

  async pendingPushesBefore(cutoff: Date): Promise<PendingPush[]> {
    return this.store.pendingPushesBefore(cutoff);
  }

  async removePendingPush(id: string): Promise<void> {
    this.store.removePendingPush(id);
  }

  async get(id: string): Promise<JobView | undefined> {
    const job = this.store.get(id);
    return job && this.withProgress(job);
  }

  async list(filter: JobFilter): Promise<JobView[]> {
    return this.store.list(filter).map((j) => this.withProgress(j));
  }

  async throughputSince(since: Date): Promise<ThroughputRow[]> {
    return this.store.throughputSince(since);
  }

  async counts(): Promise<Record<JobState, number>> {
    return this.store.counts();
  }

  async probeWrite(): Promise<void> {
    this.store.probeWrite();
  }

  async start(options: QueueStartOptions): Promise<void> {
    this.runner = new JobRunner(
      this.store,
      options.handler,
      { ...this.runnerOptions, onSettled: options.onSettled },
      this.log,
    );
    this.runner.start();
    this.stopPruning = schedulePruning(this.store.db, this.retention, this.log);
  }

  async replicas(): Promise<number> {
    return 1;
  }

  get busy(): number {
    return this.runner?.busy ?? 0;
  }

  async stop(graceMs: number): Promise<number> {
    return this.runner ? this.runner.stop(graceMs) : 0;
  }

  async close(): Promise<void> {
    this.stopPruning?.();
    const { commits, writes } = this.groupCommit.stats;
    // What group commit saved, for operators and bench:webhooks: one fsync per commit.
    if (writes > 0) this.log.info(`job store: ${writes} intake writes in ${commits} commits`);
    this.store.close();
  }

  private withProgress(job: Job): JobView {
    const progress = job.state === 'running' ? this.runner?.progress(job.id) : undefined;
    return progress ? { ...job, progress } : job;
  }
}
