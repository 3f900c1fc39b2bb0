// The job rules every queue backend follows, as pure functions: what a handler's outcome makes of a job (the
// verdict), which failures are permanent, how long to wait before the next attempt and when to give up, when
// two requests are one job (the copy key's window, tags merged), and how a job is named in the log.
// Backends keep only their storage mechanics (SQL, Lua, BullMQ options) and ask these.
import type { ConversionError } from '../copy/convert.js';
import type { RegistryErrorCode } from '../oci/errors.js';
import type { RetryDecision, RetryPolicy } from '../oci/retry.js';
import type { Job, JobOutcome, JobSpec, JobState } from './types.js';

/** Failures that another attempt cannot fix: the job fails at once instead of retrying for minutes. */
/** DELETE_UNSUPPORTED: the destination registry refuses deletes (405); only its configuration changes that. */
/** PROXY_REFUSED: the proxy answered CONNECT with a 4xx (credentials, an endpoint it does not allow). */
/** TLS_MISMATCH: the peer speaks the other protocol; only HarborProtocol/SWRProtocol changes that. */
/** MANIFEST_TREE_TOO_LARGE: the image's index graph passes the walk's limits (copy/manifest-budget.ts). */
const PERMANENT: ReadonlyArray<RegistryErrorCode | ConversionError['code'] | 'DELETE_UNSUPPORTED'> = [
  'NAME_INVALID',
  'TLS_MISMATCH',
  'CONVERSION_IMPOSSIBLE',
  'UNSUPPORTED_SCHEMA1',
  'DIGEST_MISMATCH',
  'PLATFORM_NOT_FOUND',
  'DELETE_UNSUPPORTED',
  'PROXY_REFUSED',
  'MANIFEST_TREE_TOO_LARGE',
];
const PERMANENT_CODES: ReadonlySet<string> = new Set(PERMANENT);

export type FailedVerdict = { state: 'failed'; reason: string; permanent: boolean };
export type Verdict = { state: 'succeeded' } | { state: 'skipped'; reason: string } | FailedVerdict;

/** What a handler's outcome makes of the job; any failed image fails the attempt. */
export function judge(outcome: JobOutcome): Verdict {
  const failed = outcome.results.filter((r) => r.status === 'failed');
  if (failed.length > 0) {
    const permanent = failed.every((r) => r.errorCode !== undefined && PERMANENT_CODES.has(r.errorCode));
    return {
      state: 'failed',
      reason: `${failed.length} of ${outcome.results.length} images failed: ${failed[0].reason}`,
      permanent,
    };
  }
  return outcome.skipped ? { state: 'skipped', reason: outcome.skipped } : { state: 'succeeded' };
}

/** What a handler that threw makes of the job. */
export function judgeError(error: unknown): FailedVerdict {
  return { state: 'failed', reason: (error as Error).message, permanent: isPermanent(error) };
}

/**
 * Errors marked `permanent` (a namespace owned by another account), or carrying one of the permanent codes (a
 * Harbor that answers in the other protocol while the job lists it), are not worth another attempt.
 */
export function isPermanent(error: unknown): boolean {
  const { permanent, code } = (error ?? {}) as { permanent?: unknown; code?: unknown };
  return permanent === true || (typeof code === 'string' && PERMANENT_CODES.has(code));
}

export const DEFAULT_BACKOFF_BASE_MS = 5000;
export const DEFAULT_BACKOFF_MAX_MS = 600_000;

/** The wait before attempt `attempts + 1`: doubling from the base, capped. */
export function retryDelay(attempts: number, baseMs = DEFAULT_BACKOFF_BASE_MS, maxMs = DEFAULT_BACKOFF_MAX_MS): number {
  return Math.min(maxMs, baseMs * 2 ** (attempts - 1));
}

export interface JobRetryOptions {
  /** Attempts after the first. */
  retries: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
}

/**
 * The job runner's retry decision, for every backend: a permanent failure gives up at once, any other is
 * tried again after `retryDelay` until `retries` attempts after the first have failed too. `attempt` counts
 * the attempts made so far, this one included.
 */
export function jobRetryPolicy(options: JobRetryOptions): RetryPolicy<FailedVerdict> {
  return {
    decide(attempt: number, verdict: FailedVerdict): RetryDecision {
      if (verdict.permanent) return { retry: false, reason: 'a permanent failure' };
      if (attempt > options.retries) return { retry: false, reason: `failed after ${attempt} attempts` };
      return { retry: true, delayMs: retryDelay(attempt, options.backoffBaseMs, options.backoffMaxMs) };
    },
  };
}

export function describeJob(job: Job): string {
  return describeSpec(job.spec);
}

/** What a job (or a command-line sync, which has no job) works on, in the words of the service log. */
export function describeSpec(spec: JobSpec): string {
  const target = spec.destination ? `${spec.destination}/${spec.namespace}` : spec.namespace;
  if (spec.kind === 'image') return `image ${spec.project}/${spec.repository}@${spec.digest} -> ${target}`;
  if (spec.kind === 'delete')
    return `delete ${target}/${spec.repository} tags written for ${spec.project}/${spec.repository}@${spec.digest}`;
  return `project ${spec.project} -> ${target}${spec.dryRun ? ' (dry run)' : ''}`;
}

/** A duplicate of a job that succeeded this recently is answered by that job rather than copied again. */
export const DUPLICATE_WINDOW_MS = 10 * 60 * 1000;

/** Jobs that finished before this no longer answer duplicates. */
export function duplicateWindowStart(now: number): number {
  return now - DUPLICATE_WINDOW_MS;
}

/**
 * Whether a job still answers a request with its copy key: while queued or running, and for the window after
 * it succeeded. The SQLite store's lookup says the same in SQL; Redis says it with the key's expiry.
 */
export function answersDuplicates(job: { state: JobState; finishedAt?: string }, now: number): boolean {
  if (job.state === 'queued' || job.state === 'running') return true;
  return (
    job.state === 'succeeded' && job.finishedAt !== undefined && Date.parse(job.finishedAt) > duplicateWindowStart(now)
  );
}

/** The spec with the new request's tags added, or undefined when it brings nothing new. */
export function mergeTags(existing: JobSpec, incoming: JobSpec): JobSpec | undefined {
  if (existing.kind !== 'image' || incoming.kind !== 'image') return undefined;
  const extra = incoming.tags.filter((t) => !existing.tags.includes(t));
  return extra.length === 0 ? undefined : { ...existing, tags: [...existing.tags, ...extra] };
}

/**
 * What a request becomes next to the job its copy key found: that job as it is (it brings nothing new), that
 * job with the request's tags added (it is still queued), or a new job (it runs or ran without the new tags,
 * or failed: the image itself is then mostly already there).
 */
export type DuplicateAnswer = { join: 'as-is' } | { join: 'with-tags'; spec: JobSpec } | { join: 'no' };

export function answerDuplicate(existing: { state: JobState; spec: JobSpec }, incoming: JobSpec): DuplicateAnswer {
  if (existing.state === 'failed') return { join: 'no' };
  const merged = mergeTags(existing.spec, incoming);
  if (!merged) return { join: 'as-is' };
  return existing.state === 'queued' ? { join: 'with-tags', spec: merged } : { join: 'no' };
}
