// Jobs: what the service has promised to do (copy an image, sync a project), their states and results.
import type { ImageResult } from '../copy/index.js';
import type { ThroughputRow } from './throughput.js';

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'skipped';

export interface ImageJobSpec {
  kind: 'image';
  project: string;
  /** Repository name without the project. */
  repository: string;
  digest: string;
  /** Tags known when the job was made; the worker adds the ones Harbor reports for the digest. */
  tags: string[];
  namespace: string;
}

export interface ProjectJobSpec {
  kind: 'project';
  project: string;
  namespace: string;
  repositories?: string[];
  tags?: string[];
  overwrite?: boolean;
  dryRun?: boolean;
  /** Credentials came with the request; they live in memory only and are never written to the store. */
  requestCredentials?: boolean;
}

export type JobSpec = ImageJobSpec | ProjectJobSpec;

export interface JobProgress {
  imagesTotal: number;
  imagesDone: number;
  bytesUploaded: number;
}

export interface Job {
  id: string;
  kind: JobSpec['kind'];
  state: JobState;
  project: string;
  spec: JobSpec;
  attempts: number;
  createdAt: string;
  updatedAt: string;
  startedAt?: string;
  finishedAt?: string;
  notBefore: string;
  error?: string;
  results: ImageResult[];
}

export interface JobFilter {
  state?: JobState;
  project?: string;
  limit?: number;
}

/** A push seen without a tag (index child, push by digest), held until Harbor says which tags it has. */
export interface PendingPush {
  id: string;
  project: string;
  repository: string;
  digest: string;
  namespace: string;
  receivedAt: string;
}

export interface EnqueueOutcome {
  job: Job;
  /** True when the request joined an existing job instead of making one. */
  merged: boolean;
}

/**
 * The durable store behind the queue. Synchronous on purpose for the embedded SQLite store, whose writes
 * finish before the webhook answers; a networked store for several replicas will sit behind the same shape.
 */
export interface JobStore {
  enqueue(spec: JobSpec, dedupeKey: string | undefined, notBefore?: Date): EnqueueOutcome;
  addPendingPush(push: Omit<PendingPush, 'id' | 'receivedAt'>): void;
  pendingPushesBefore(cutoff: Date): PendingPush[];
  removePendingPush(id: string): void;
  claimNext(now: Date): Job | undefined;
  finish(id: string, state: Exclude<JobState, 'queued' | 'running'>, results: unknown[], error?: string): void;
  retryLater(id: string, notBefore: Date, results: unknown[], error: string): void;
  /** Jobs a crash left running go back to the queue. */
  requeueRunning(): number;
  get(id: string): Job | undefined;
  list(filter: JobFilter): Job[];
  /** Jobs that reached a final state at or after `since`, oldest first: what throughput is computed from. */
  finishedSince(since: Date): Job[];
  /** Throughput buckets from the one holding `since` on, oldest first: a few rows, whatever the job count. */
  throughputSince(since: Date): ThroughputRow[];
  counts(): Record<JobState, number>;
  close(): void;
}
