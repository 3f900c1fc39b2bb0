// The options of a Transport (one registry host) and the observer it tells of every exchange: what callers set.
import type { CredentialSource } from './auth.js';
import type { Clock } from './clock.js';
import type { ProtocolSetting } from './protocol-mismatch.js';
import type { ProxyRoutes } from './proxy.js';
import type { RequestPacer } from './rate-limit.js';
import type { RetryOptions } from './retry.js';

export interface TransportOptions {
  host: string;
  /** Plain HTTP instead of HTTPS. */
  insecure?: boolean;
  /** The caller's words for switching this registry to plain HTTP or HTTPS, given when it speaks the other. */
  protocolSetting?: ProtocolSetting;
  credentials?: CredentialSource;
  /** Request pacing for this host; 0 is unlimited. */
  requestsPerSecond?: number;
  /** Pacing shared beyond this client (other processes of one deployment); replaces `requestsPerSecond`. */
  pacer?: RequestPacer;
  maxConnections?: number;
  retry?: Partial<RetryOptions>;
  userAgent?: string;
  /** Skip TLS certificate checks (the old tool's --insecure-registry); prefer `caCertificate`. */
  skipTlsVerify?: boolean;
  /** PEM of a private CA to trust for this registry, besides the system's. */
  caCertificate?: string;
  /** Which connections go through a proxy (HTTPS_PROXY, NO_PROXY...); all direct when absent. */
  proxies?: ProxyRoutes;
  /** Told of every exchange with the host, for whoever watches registries (metrics, readiness). */
  observer?: TransportObserver;
  /**
   * Hosts (`host` or `host:port`) besides the registry's own to which its credentials may be sent when its
   * token realm points there (a Harbor behind another name: the host of its external_url; TokenRealmHosts).
   */
  tokenRealmHosts?: string[];
  /** Total time for an API request (token, manifest, listing, error body), headers and body; default 30 s. */
  apiDeadlineMs?: number;
  /** A blob stream failing (retryably) after this long without a byte; default 60 s. */
  blobIdleTimeoutMs?: number;
  /** Time for token expiry and retry waits; the system's by default. */
  clock?: Clock;
}

/** Callbacks run inline on every request: they must be cheap and must not throw. */
export interface TransportObserver {
  /** The registry answered, with any status, including answers that are then retried or replayed. */
  response(host: string, method: string, status: number): void;
  /** No answer at all: the connection was refused, reset or timed out. */
  unanswered(host: string, method: string, reason: string): void;
  /** A request is sent again; `reason` is the status code that caused it, or `network`. */
  retry(host: string, reason: string): void;
}
