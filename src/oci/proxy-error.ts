// Owns what a failing proxy looks like to the callers: undici says "Proxy response (407) !== 200 when HTTP
// Tunneling" or "connect ECONNREFUSED" with no word of which proxy or what to do. A ProxyError names the proxy
// (never its credentials), the endpoint it was asked for, and the fix; every client finds it with proxyFailureOf.
import type { buildConnector } from 'undici';
import { shownProxy } from './proxy.js';

/** REFUSED: the proxy said no (4xx), which only a change of settings mends; GATEWAY: it could not reach the
 * endpoint (5xx); UNREACHABLE: the proxy itself did not answer. */
export type ProxyErrorCode = 'PROXY_REFUSED' | 'PROXY_GATEWAY' | 'PROXY_UNREACHABLE';

export class ProxyError extends Error {
  constructor(
    readonly code: ProxyErrorCode,
    message: string,
    /** The proxy's answer to CONNECT; 0 when it could not be reached. */
    readonly status: number,
    /** A proxy that could not reach the endpoint, or could not be reached, may do better later; a refusal will not. */
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'ProxyError';
  }
}

// Failures to open a TCP connection: with a proxy, the only connection this process opens is the one to it.
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
]);

function advice(status: number): string {
  if (status === 407 || status === 401)
    return 'check the user and password in the proxy URL (Proxy, or HTTPS_PROXY / HTTP_PROXY), percent-encoded';
  if (status === 403)
    return 'the proxy does not allow this host or port: ask its administrators to allow it, or put the host in NoProxy if it is reachable without the proxy';
  if (status === 502 || status === 503 || status === 504)
    return "the proxy could not reach it: check the host name and port, and the proxy's own access to it";
  return "check the proxy's settings";
}

/** The ProxyError for a connection through `proxy` to `target` (host:port) that failed with `error`, if it is the proxy's. */
export function proxyErrorOf(error: Error, proxy: URL, target: string): ProxyError | undefined {
  const shown = shownProxy(proxy);
  const refused = /^Proxy response \((\d+)\)/.exec(error.message);
  if (refused) {
    const status = Number(refused[1]);
    return new ProxyError(
      status >= 500 ? 'PROXY_GATEWAY' : 'PROXY_REFUSED',
      `the proxy ${shown} refused to open a tunnel to ${target} (HTTP ${status}): ${advice(status)}`,
      status,
      status >= 500,
    );
  }
  const code = (error as NodeJS.ErrnoException).code;
  if (code && UNREACHABLE.has(code))
    return new ProxyError(
      'PROXY_UNREACHABLE',
      `cannot reach the proxy ${shown} (${code}) to get to ${target}: check the proxy URL (Proxy, or HTTPS_PROXY / HTTP_PROXY) and that the proxy runs, or put ${target} in NoProxy if it is reachable without it`,
      0,
      true,
    );
  return undefined;
}

/** A tunnel connector whose proxy failures become ProxyErrors; other failures (TLS to the endpoint) pass unchanged. */
export function explainingConnector(connect: buildConnector.connector, proxy: URL): buildConnector.connector {
  return (options, callback) =>
    connect(options, (...args) => {
      const [error] = args;
      const target = `${options.hostname}:${options.port || (options.protocol === 'https:' ? 443 : 80)}`;
      const explained = error ? proxyErrorOf(error, proxy, target) : undefined;
      if (explained) callback(explained, null);
      else callback(...args);
    });
}

/** The ProxyError behind `error` (itself or a cause: fetch wraps it), if a proxy is why it failed. */
export function proxyFailureOf(error: unknown): ProxyError | undefined {
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++)
    if (e instanceof ProxyError) return e;
  return undefined;
}
