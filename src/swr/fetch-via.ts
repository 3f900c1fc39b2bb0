// Owns how SWR's and IAM's APIs are called: the global fetch (which nock stands in for in tests), through the
// proxy's connection pool when there is one (fetch alone ignores HTTPS_PROXY), and a failure that names the proxy.
import type { Dispatcher } from 'undici';
import { proxyFailureOf } from '../oci/index.js';

export function fetchVia(dispatcher: Dispatcher | undefined, url: URL, init: RequestInit): Promise<Response> {
  // Node's fetch takes an undici dispatcher beside the standard fields.
  return fetch(url, dispatcher ? ({ ...init, dispatcher } as RequestInit) : init);
}

/** Why a call got no answer: the proxy's refusal when a proxy is why, else fetch's own reason. */
export function unansweredReason(error: unknown): string {
  const proxy = proxyFailureOf(error);
  if (proxy) return proxy.message;
  const cause = (error as { cause?: NodeJS.ErrnoException }).cause;
  return cause?.code ? `${(error as Error).message} (${cause.code})` : (error as Error).message;
}
