// The job queue the service talks to, whatever holds it: the embedded SQLite store with its in-process
// runner (one instance), or Redis with BullMQ (several replicas sharing the work).
import type { ThroughputRow } from './throughput.js';
import type {
  EnqueueOutcome,
  Job,
  JobFilter,
  JobHandler,
  JobProgress,
  JobSpec,
  JobState,
  PendingPush,
} from './types.js';

export type JobView = Job & { progress?: JobProgress };

export interface QueueStartOptions {
  handler: JobHandler;
  /** Told when a job of this process reaches a final state (succeeded, skipped or failed for good). */
  onSettled?: (id: string) => void;
}

/** What a backend whose jobs run under locks that expire unless renewed (Redis) did with them on this replica. */
export interface JobLockStats {
  /** Jobs of this replica whose lock is renewed while they run. */
  readonly held: number;
  /** Lock renewals that succeeded, one per job per renewal. */
  readonly renewed: number;
  /** Renewals refused or not answered: the job may be another replica's by now. */
  readonly failed: number;
}

export interface JobQueue {
  readonly backend: 'sqlite' | 'redis';
  /** Absent where no other process can take a job over (SQLite: one instance, no lock to renew). */
  readonly locks?: JobLockStats;
  /** Replicas taking jobs from this queue now, as the store sees them (SQLite: only this process). */
  replicas(): Promise<number>;
  /**
   * Records a job durably before resolving, and it may start at once (no poll waited for); a key already queued
   * or running joins that job instead.
   */
  enqueue(spec: JobSpec, dedupeKey: string | undefined, notBefore?: Date): Promise<EnqueueOutcome>;
  addPendingPush(push: Omit<PendingPush, 'id' | 'receivedAt'>): Promise<void>;
  pendingPushesBefore(cutoff: Date): Promise<PendingPush[]>;
  removePendingPush(id: string): Promise<void>;
  /** A job with its live progress when it is running. */
  get(id: string): Promise<JobView | undefined>;
  list(filter: JobFilter): Promise<JobView[]>;
  /** Throughput buckets from the one holding `since` on, oldest first; never reads every job (status page). */
  throughputSince(since: Date): Promise<ThroughputRow[]>;
  counts(): Promise<Record<JobState, number>>;
  /** Throws unless a write reaches the store now (readiness). */
  probeWrite(): Promise<void>;
  /** Starts taking jobs. */
  start(options: QueueStartOptions): Promise<void>;
  /** Jobs this process is running now. */
  readonly busy: number;
  /** Takes no new jobs and waits up to `graceMs` for running ones; returns how many were still running. */
  stop(graceMs: number): Promise<number>;
  close(): Promise<void>;
}
