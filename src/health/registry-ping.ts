// Owns asking a registry whether it is there: one GET /v2/ with short timeouts and no retries, so that a
// readiness probe gets its answer in seconds even when the registry is down. The timeout bounds the whole
// exchange: undici's header and body timeouts restart with every byte, so a registry dripping its answer would
// otherwise hold the ping, and every probe waiting on it, for as long as it liked.
import { request } from '../oci/undici-parts.js';
import { connectionPool, proxyFailureOf, type ProxyRoutes } from '../oci/index.js';
import { userAgent } from '../oci/user-agent.js';

export interface RegistryEndpoint {
  host: string;
  /** Plain HTTP instead of HTTPS. */
  insecure: boolean;
  skipTlsVerify?: boolean;
  caCertificate?: string;
  /** Which connections go through a proxy; all direct when absent. */
  proxies?: ProxyRoutes;
}

export type PingResult = { answered: true } | { answered: false; reason: string };

export async function pingRegistry(endpoint: RegistryEndpoint, timeoutMs: number): Promise<PingResult> {
  // Its own short-lived agent: the transports' agents wait minutes for slow bodies, a probe must not.
  const agent = connectionPool({
    proxies: endpoint.proxies,
    skipTlsVerify: endpoint.skipTlsVerify,
    caCertificate: endpoint.caCertificate,
    connectTimeoutMs: timeoutMs,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  const url = `${endpoint.insecure ? 'http' : 'https'}://${endpoint.host}/v2/`;
  try {
    const signal = AbortSignal.timeout(timeoutMs);
    const res = await request(url, { dispatcher: agent, headers: { 'user-agent': userAgent() }, signal });
    // The status is the answer: a body that drips past the deadline is left unread.
    await res.body.dump({ limit: 64 * 1024, signal }).catch(() => undefined);
    // 401 is the usual answer without credentials, and proves the registry is up; a 5xx does not.
    if (res.statusCode < 500) return { answered: true };
    return { answered: false, reason: `GET ${url} answered HTTP ${res.statusCode}` };
  } catch (error) {
    const proxy = proxyFailureOf(error);
    if (proxy) return { answered: false, reason: `GET ${url} got no answer: ${proxy.message}` };
    if ((error as Error).name === 'TimeoutError')
      return { answered: false, reason: `GET ${url} got no answer within ${timeoutMs / 1000} s` };
    const code = (error as NodeJS.ErrnoException).code ?? (error as { cause?: NodeJS.ErrnoException }).cause?.code;
    return { answered: false, reason: `GET ${url} got no answer (${code ?? (error as Error).message})` };
  } finally {
    await agent.destroy();
  }
}
