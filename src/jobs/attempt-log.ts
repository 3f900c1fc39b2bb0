// The lines the service log gets about a job's attempts, written here once so that both queue backends
// (the in-process runner and BullMQ's worker) report a start, an end and a retry in the same words.
import type winston from 'winston';
import type { RetryDecision } from '../oci/retry.js';
import { describeJob, type Verdict } from './policy.js';
import type { Job } from './types.js';

export function logStarted(log: winston.Logger, job: Job): void {
  log.info(`started: ${describeJob(job)}, attempt ${job.attempts}`, { jobId: job.id });
}

/** A job that succeeded or was skipped; failures go through logFailedAttempt. */
export function logDone(
  log: winston.Logger,
  jobId: string,
  verdict: Exclude<Verdict, { state: 'failed' }>,
  images: number,
): void {
  if (verdict.state === 'skipped') log.info(`skipped: ${verdict.reason}`, { jobId });
  else log.info(`succeeded: ${images} image(s)`, { jobId });
}

/** A failed attempt, with what the retry policy decided about it. */
export function logFailedAttempt(
  log: winston.Logger,
  jobId: string,
  attempt: number,
  decision: RetryDecision,
  reason: string,
): void {
  if (decision.retry)
    log.warn(`failed (attempt ${attempt}), retrying in ${Math.round(decision.delayMs / 1000)} s: ${reason}`, { jobId });
  else log.error(`failed after ${attempt} attempts: ${reason}`, { jobId });
}

/**
 * Past the grace period the service closes its registry clients under the running copies: a failure then is
 * the stop's doing, not the job's, and costs no attempt; the job resumes at the next start (or on another
 * replica).
 */
export function logInterrupted(log: winston.Logger, jobId: string, reason: string): void {
  log.warn(`interrupted by the stop (${reason}); it resumes at the next start`, { jobId });
}
