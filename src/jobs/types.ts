// Jobs: what the service has promised to do (copy an image, sync a project), their states and results.
import type { ImageResult } from '../copy/index.js';
import type { FilterTexts } from '../filters/rules.js';

export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'skipped';

export interface ImageJobSpec {
  kind: 'image';
  project: string;
  /** Repository name without the project. */
  repository: string;
  digest: string;
  /**
   * Tags the event named. They decide whether a later request brings something new (tags merged into a queued
   * job); the copy itself asks Harbor which tags the digest carries when the job runs and copies those, so a
   * tag removed meanwhile is not copied. Only a plain-registry source, which cannot be asked, copies these.
   */
  tags: string[];
  namespace: string;
  /** The destination's registry host, named when the deployment has several; absent: the default destination. */
  destination?: string;
}

export interface ProjectJobSpec {
  kind: 'project';
  project: string;
  namespace: string;
  /** The destination's registry host, named when the deployment has several; absent: the default destination. */
  destination?: string;
  repositories?: string[];
  tags?: string[];
  /** The request's own filter rules (pattern texts), applied on top of app.conf's: they only narrow. */
  filters?: FilterTexts;
  overwrite?: boolean;
  dryRun?: boolean;
  /** Credentials came with the request; they live in memory only and are never written to the store. */
  requestCredentials?: boolean;
}

/**
 * Deletes at the destination the tags the service wrote for a source digest that Harbor deleted (SyncDeletes,
 * or the sweep with ReconcileDeletes). Tags Harbor still has on the digest when the job runs are kept.
 */
export interface DeleteJobSpec {
  kind: 'delete';
  project: string;
  /** Repository name without the project. */
  repository: string;
  /** The source digest Harbor deleted. */
  digest: string;
  /** Tags the event named (a DELETE_ARTIFACT names one, an envelope none): for people; the record decides. */
  tags: string[];
  namespace: string;
  /** What asked for it: a Harbor event, or the sweep finding the tags gone from Harbor. */
  trigger: 'event' | 'reconcile';
  /** The destination's registry host, named when the deployment has several; absent: the default destination. */
  destination?: string;
}

export type JobSpec = ImageJobSpec | ProjectJobSpec | DeleteJobSpec;

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

/** What a job's handler made of one attempt. */
export interface JobOutcome {
  results: ImageResult[];
  /** Nothing was there to copy, and why. */
  skipped?: string;
}

/**
 * Runs one attempt. `signal` aborts when this attempt must stop (the service stopping past its grace period, or
 * the Redis queue losing the job's lock); a handler passes it down to the copy so that exactly this job's
 * requests stop.
 */
export type JobHandler = (job: Job, progress: (p: JobProgress) => void, signal: AbortSignal) => Promise<JobOutcome>;

export interface EnqueueOutcome {
  job: Job;
  /** True when the request joined an existing job instead of making one. */
  merged: boolean;
}

/**
 * What the in-process runner needs of a store: claim the next due job, record an attempt's end. Synchronous on
 * purpose: the embedded SQLite store's writes finish before the webhook is answered. (The Redis queue does not
 * use the runner: BullMQ claims and retries its jobs itself, asking the same job policy.)
 */
export interface JobStore {
  claimNext(now: Date): Job | undefined;
  finish(id: string, state: Exclude<JobState, 'queued' | 'running'>, results: unknown[], error?: string): void;
  retryLater(id: string, notBefore: Date, results: unknown[], error: string): void;
  /** Jobs a crash left running go back to the queue. */
  requeueRunning(): number;
}
