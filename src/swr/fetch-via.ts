// Owns how SWR's and IAM's APIs are called: the global fetch (which nock stands in for in tests), through the
// proxy's connection pool when there is one (fetch alone ignores HTTPS_PROXY), and a failure that names the proxy.
// Every call has a deadline for headers and body together and a cap on the body it holds, as every other peer's
// answer does: an API endpoint that never answers, or answers without end, costs seconds and a few MiB at most.
// Redirects are not followed: fetch would send the body (IAM's password) and X-Auth-Token to wherever they point.
import type { Dispatcher } from 'undici';
import { readResponseUpTo } from '../oci/body.js';
import { peerText, proxyFailureOf } from '../oci/index.js';

/** What one call may cost. */
export interface CallLimits {
  /** Headers and body, together. */
  deadlineMs: number;
  /** Largest successful (2xx) body held; over it the call fails. */
  maxBodyBytes: number;
  /** Largest error body held; past it the rest is not read (the start carries the message). */
  maxErrorBytes: number;
}

export const API_CALL_LIMITS: CallLimits = {
  deadlineMs: 30_000,
  // A management listing page (100 repositories with their tag names) or an IAM token with its service catalog.
  maxBodyBytes: 16 * 1024 * 1024,
  maxErrorBytes: 64 * 1024,
};

export interface ApiAnswer {
  status: number;
  headers: Headers;
  text: string;
}

/** Why a call got no (complete) answer: the reason to show, without the call's action. */
export class UnansweredCall extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'UnansweredCall';
  }
}

export function fetchVia(
  dispatcher: Dispatcher | undefined,
  url: URL,
  init: RequestInit,
  limits: CallLimits = API_CALL_LIMITS,
): Promise<ApiAnswer> {
  const signal = AbortSignal.timeout(limits.deadlineMs);
  return (async () => {
    let res: Response;
    try {
      // Node's fetch takes an undici dispatcher beside the standard fields.
      res = await fetch(url, { ...init, redirect: 'manual', signal, ...(dispatcher ? { dispatcher } : {}) });
    } catch (error) {
      throw new UnansweredCall(signal.aborted ? late(limits) : unansweredReason(error), error);
    }
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel().catch(() => undefined);
      const to = res.headers.get('location');
      throw new UnansweredCall(
        `it answered ${res.status}, redirecting${to ? ` to ${peerText(to, 200)}` : ''}: not followed, so that the call's credentials stay with ${url.origin} (set the API's own address)`,
      );
    }
    const success = res.status >= 200 && res.status < 300;
    const limit = success ? limits.maxBodyBytes : limits.maxErrorBytes;
    let read: { text: string; truncated: boolean };
    try {
      read = await readResponseUpTo(res, limit);
    } catch (error) {
      throw new UnansweredCall(
        signal.aborted ? late(limits) : `the answer broke off: ${unansweredReason(error)}`,
        error,
      );
    }
    if (read.truncated && success)
      throw new UnansweredCall(
        `its answer (${res.status}) is over ${limit} bytes, more than any genuine one; reading stopped there (is the endpoint the API it should be?)`,
      );
    return { status: res.status, headers: res.headers, text: read.text };
  })();
}

function late(limits: CallLimits): string {
  return `no complete answer within ${Math.round(limits.deadlineMs / 1000)} s`;
}

/** Why a call got no answer: the proxy's refusal when a proxy is why, else fetch's own reason. */
export function unansweredReason(error: unknown): string {
  if (error instanceof UnansweredCall) return error.message;
  const proxy = proxyFailureOf(error);
  if (proxy) return proxy.message;
  const cause = (error as { cause?: NodeJS.ErrnoException }).cause;
  return cause?.code ? `${(error as Error).message} (${cause.code})` : (error as Error).message;
}
