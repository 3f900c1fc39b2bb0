// The one retry policy of registry exchanges (transport, blob download resumes, whole-blob restarts): what is
// worth another attempt, how long to wait first, when to give up. Pure: no network, no timers.
import { describe, expect, test } from '@jest/globals';
import { HttpRetryPolicy, RegistryError, type RegistryErrorCode, type RetryDecision } from '../../src/oci/index.js';
import { backoffDelay, DEFAULT_RETRY } from '../../src/oci/retry.js';

const fixed = (value: number) => () => value;
const registryError = (retryable: boolean, code: RegistryErrorCode = 'NETWORK') =>
  new RegistryError({ code, status: 0, host: 'h', message: 'm', retryable });
const delay = (decision: RetryDecision) => (decision.retry ? decision.delayMs : undefined);

describe('HttpRetryPolicy', () => {
  test('408, 429 and 5xx answers are retried; other statuses are answers', () => {
    const policy = new HttpRetryPolicy({}, fixed(0));
    for (const status of [408, 429, 500, 502, 503, 504]) expect(policy.decide(1, { status }).retry).toBe(true);
    for (const status of [400, 401, 403, 404, 413, 501]) expect(policy.decide(1, { status }).retry).toBe(false);
  });

  test('errors: a RegistryError as it says, anything else (a broken stream) retried, a cancellation never', () => {
    const policy = new HttpRetryPolicy({}, fixed(0));
    expect(policy.decide(1, { error: registryError(true) }).retry).toBe(true);
    expect(policy.decide(1, { error: registryError(false, 'DENIED') })).toEqual({
      retry: false,
      reason: 'DENIED is not retryable',
    });
    expect(policy.decide(1, { error: new Error('premature close') }).retry).toBe(true);
    const abort = new AbortController();
    abort.abort();
    expect(policy.decide(1, { error: abort.signal.reason })).toEqual({ retry: false, reason: 'cancelled' });
  });

  test('gives up once `retries` attempts after the first have failed', () => {
    const policy = new HttpRetryPolicy({ retries: 2 }, fixed(0));
    expect(policy.decide(1, { status: 503 }).retry).toBe(true);
    expect(policy.decide(2, { status: 503 }).retry).toBe(true);
    expect(policy.decide(3, { status: 503 })).toEqual({ retry: false, reason: 'gave up after 3 attempts' });
    expect(new HttpRetryPolicy({ retries: 0 }).decide(1, { error: new Error('reset') }).retry).toBe(false);
  });

  test('an unresolved host has its own limit (a command line gives up after one retry); other errors keep `retries`', () => {
    const policy = new HttpRetryPolicy({ retries: 5, unresolvedHostRetries: 1 }, fixed(0));
    const unresolved = registryError(true, 'HOST_UNRESOLVED');
    expect(policy.decide(1, { error: unresolved }).retry).toBe(true);
    expect(policy.decide(2, { error: unresolved })).toEqual({ retry: false, reason: 'gave up after 2 attempts' });
    expect(policy.decide(2, { error: registryError(true) }).retry).toBe(true);
    // Unset, it is `retries`, as the service wants: its resolver may come back.
    expect(new HttpRetryPolicy({ retries: 5 }, fixed(0)).decide(5, { error: unresolved }).retry).toBe(true);
  });

  test('undefined options keep the defaults', () => {
    expect(new HttpRetryPolicy({ retries: undefined }).options).toEqual(DEFAULT_RETRY);
  });

  test('backoff doubles from the base, with jitter over its upper half, capped', () => {
    const low = new HttpRetryPolicy({ baseDelayMs: 100, maxDelayMs: 1000, retries: 10 }, fixed(0));
    const high = new HttpRetryPolicy({ baseDelayMs: 100, maxDelayMs: 1000, retries: 10 }, fixed(1));
    expect([1, 2, 3, 4, 5, 6].map((attempt) => delay(low.decide(attempt, { status: 500 })))).toEqual([
      50, 100, 200, 400, 500, 500,
    ]);
    expect([1, 2, 3, 4, 5, 6].map((attempt) => delay(high.decide(attempt, { status: 500 })))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
  });

  test("the server's Retry-After wins over a shorter backoff, up to four times the cap", () => {
    const policy = new HttpRetryPolicy({ baseDelayMs: 100, maxDelayMs: 1000 }, fixed(0));
    expect(delay(policy.decide(1, { status: 429, retryAfterMs: 2500 }))).toBe(2500);
    expect(delay(policy.decide(1, { status: 429, retryAfterMs: 60_000 }))).toBe(4000);
    expect(delay(policy.decide(1, { status: 429, retryAfterMs: 10 }))).toBe(50);
  });

  test('the same delays as backoffDelay, attempt for attempt', () => {
    const policy = new HttpRetryPolicy({}, fixed(0.5));
    for (let attempt = 1; attempt <= DEFAULT_RETRY.retries; attempt++) {
      expect(delay(policy.decide(attempt, { error: new Error('reset') }))).toBe(
        backoffDelay(attempt - 1, DEFAULT_RETRY, undefined, fixed(0.5)),
      );
    }
  });
});
