// Retry policy: exponential backoff with full jitter, capped, and the server's Retry-After honoured.

export interface RetryOptions {
  /** Attempts after the first; 0 disables retries. */
  retries: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryOptions = { retries: 5, baseDelayMs: 200, maxDelayMs: 30_000 };

export function backoffDelay(attempt: number, policy: RetryOptions, retryAfterMs?: number): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  const jittered = exponential / 2 + Math.random() * (exponential / 2);
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

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
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
