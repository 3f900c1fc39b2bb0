// Retry policy: which failed attempts are worth another, and after how long (exponential backoff with full
// jitter, capped, the server's Retry-After honoured). Loops ask the policy; none decides on its own.
import { hasCode, isRetryableStatus, RegistryError } from './errors.js';

export interface RetryOptions {
  /** Attempts after the first; 0 disables retries. */
  retries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /**
   * Attempts after the first when the host name does not resolve (`retries` if unset): a service may wait for
   * its resolver, a command line with a mistyped host should not.
   */
  unresolvedHostRetries?: number;
}

export const DEFAULT_RETRY: RetryOptions = { retries: 5, baseDelayMs: 200, maxDelayMs: 30_000 };

/** `attempt` counts from 0 (the delay before the second attempt); `random` is there for tests. */
export function backoffDelay(
  attempt: number,
  policy: RetryOptions,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  const jittered = exponential / 2 + random() * (exponential / 2);
  return Math.max(jittered, Math.min(retryAfterMs ?? 0, policy.maxDelayMs * 4));
}

/** Retry-After is either delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (!text) return undefined;
  if (/^\d+$/.test(text.trim())) return Number(text.trim()) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** A policy's answer about one failed attempt: try again after `delayMs`, or give up and say why. */
export type RetryDecision = { retry: true; delayMs: number } | { retry: false; reason: string };

/**
 * Judges one failed attempt, as oras-go's retry.Policy does, so that every retry loop (transport, blob
 * download, blob copier, job runner) asks one object what is retryable and when to give up instead of
 * deciding in its own loop. `attempt` counts the attempts made so far, from 1; `Outcome` is what the
 * loop knows of the failure (a response status, an error, a job's verdict).
 */
export interface RetryPolicy<Outcome> {
  decide(attempt: number, outcome: Outcome): RetryDecision;
}

/** What one failed exchange with a registry left: an answer (its status and Retry-After), or an error instead of one. */
export type HttpOutcome = { status: number; retryAfterMs?: number } | { error: unknown };

/**
 * The registry exchanges' policy: 408, 429 and 5xx answers and errors marked retryable are tried again up to
 * `retries` times. An error that is not a RegistryError broke off mid-stream (socket reset, premature close)
 * and is worth another attempt; a cancellation never is.
 */
export class HttpRetryPolicy implements RetryPolicy<HttpOutcome> {
  readonly options: RetryOptions;

  constructor(
    options: Partial<RetryOptions> = {},
    private readonly random: () => number = Math.random,
  ) {
    this.options = { ...DEFAULT_RETRY, ...stripUndefined(options) };
  }

  decide(attempt: number, outcome: HttpOutcome): RetryDecision {
    if ('status' in outcome) {
      if (!isRetryableStatus(outcome.status))
        return { retry: false, reason: `status ${outcome.status} is an answer, not a failure to retry` };
    } else if (isCancellation(outcome.error)) {
      return { retry: false, reason: 'cancelled' };
    } else if (outcome.error instanceof RegistryError && !outcome.error.retryable) {
      return { retry: false, reason: `${outcome.error.code} is not retryable` };
    }
    const limit =
      'error' in outcome && hasCode(outcome.error, 'HOST_UNRESOLVED')
        ? (this.options.unresolvedHostRetries ?? this.options.retries)
        : this.options.retries;
    if (attempt > limit) return { retry: false, reason: `gave up after ${attempt} attempts` };
    const retryAfterMs = 'status' in outcome ? outcome.retryAfterMs : undefined;
    return { retry: true, delayMs: backoffDelay(attempt - 1, this.options, retryAfterMs, this.random) };
  }
}

/** An abort by the caller's signal (a job stopped), as undici and Clock.sleep report it; a timeout is not one. */
export function isCancellation(error: unknown): boolean {
  return (error as Error | undefined)?.name === 'AbortError';
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
