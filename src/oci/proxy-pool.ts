// Owns the connection pool every outbound client uses (registries and token realms, Harbor's REST API, SWR's
// and IAM's APIs, readiness pings): one undici Agent whose pool per origin is direct, or a tunnel through the
// proxy ProxyRoutes picks for that origin. Decided per origin, not per client, so a redirect to object storage
// or a token realm on another host follows its own NO_PROXY verdict. TLS stays end to end: the CONNECT tunnel
// carries the handshake, with the same private CA or verification setting as a direct connection.
import type { Agent as UndiciAgent, Dispatcher, Pool as UndiciPool } from 'undici';
import { Agent, Client, Pool, ProxyAgent } from './undici-parts.js';
import { explainingConnector } from './proxy-error.js';
import { DIRECT, type ProxyRoutes } from './proxy.js';
import { tlsOptions } from './tls.js';

export interface PoolOptions {
  proxies?: ProxyRoutes;
  skipTlsVerify?: boolean;
  caCertificate?: string;
  /** Time to open a connection (to the endpoint, or to the proxy); undici's default otherwise. */
  connectTimeoutMs?: number;
  connections?: number;
  keepAliveTimeout?: number;
  headersTimeout?: number;
  bodyTimeout?: number;
}

export function connectionPool(options: PoolOptions): UndiciAgent {
  const { proxies = DIRECT, skipTlsVerify, caCertificate, connectTimeoutMs, ...agentOptions } = options;
  const timeout = connectTimeoutMs === undefined ? {} : { timeout: connectTimeoutMs };
  const tls = tlsOptions({ skipTlsVerify, caCertificate });
  const connect = tls || connectTimeoutMs !== undefined ? { ...tls, ...timeout } : undefined;
  if (!proxies.any) return new Agent({ ...agentOptions, connect });
  return new Agent({
    ...agentOptions,
    connect,
    factory: (origin: string | URL, opts: object): Dispatcher => {
      const proxy = proxies.proxyFor(new URL(String(origin)));
      if (!proxy)
        return (opts as UndiciAgent.Options).connections === 1 ? new Client(origin, opts) : new Pool(origin, opts);
      return new ProxyAgent({
        ...agentOptions,
        uri: proxy.href,
        // Every endpoint is tunnelled, http:// ones too: one path, and the proxy's refusal is a CONNECT status.
        proxyTunnel: true,
        requestTls: { ...tls, ...timeout },
        proxyTls: timeout,
        factory: (tunnelOrigin: string | URL, tunnelOpts: object) => {
          const withConnect = tunnelOpts as UndiciPool.Options & { connect: Parameters<typeof explainingConnector>[0] };
          return new Pool(tunnelOrigin, { ...withConnect, connect: explainingConnector(withConnect.connect, proxy) });
        },
      });
    },
  });
}
