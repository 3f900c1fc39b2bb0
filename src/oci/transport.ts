// HTTP transport to one registry host: a pooled undici dispatcher, request pacing, retries as the retry policy
// decides, authentication with replay on 401, redirects (blob GETs are often sent to object storage), and the
// caller's cancellation signal on every request and every wait.
import type { Agent } from 'undici';
import { request } from './undici-parts.js';
import { Authenticator } from './auth.js';
import { BODY_LIMITS, readUpTo } from './body.js';
import { systemClock, type Clock } from './clock.js';
import type { TransportObserver, TransportOptions } from './transport-options.js';
import {
  connectionErrorCode,
  errorFromResponse,
  isRetryableStatus,
  networkError,
  RegistryError,
  type ErrorContext,
} from './errors.js';
import { mismatchFromAnswer, mismatchFromNetwork, type ProtocolUse } from './protocol-mismatch.js';
import { sameOrigin } from './origin.js';
import { TokenBucket, type RequestPacer } from './rate-limit.js';
import { connectionPool } from './proxy-pool.js';
import { HttpRetryPolicy, parseRetryAfter } from './retry.js';
import type { RequestBody, RequestOptions, Response } from './request.js';
import { userAgent } from './user-agent.js';

export type { TransportObserver, TransportOptions };
export type { CallOptions, RequestBody, RequestOptions, Response } from './request.js';

const MAX_REDIRECTS = 5;

export class Transport {
  readonly host: string;
  readonly baseUrl: string;
  readonly auth: Authenticator;
  /** Total deadline of API requests, for whoever reads their bodies. */
  readonly apiDeadlineMs: number;
  private readonly root: URL;
  readonly limiter: RequestPacer;
  readonly dispatcher: Agent;
  readonly retryPolicy: HttpRetryPolicy;
  readonly clock: Clock;
  private readonly userAgent: string;
  private readonly protocol: ProtocolUse;
  private readonly observer?: TransportObserver;

  constructor(options: TransportOptions) {
    this.host = options.host;
    this.baseUrl = `${options.insecure ? 'http' : 'https'}://${options.host}`;
    this.root = new URL('/', this.baseUrl);
    this.apiDeadlineMs = options.apiDeadlineMs ?? 30_000;
    this.dispatcher = connectionPool({
      proxies: options.proxies,
      skipTlsVerify: options.skipTlsVerify,
      caCertificate: options.caCertificate,
      connections: options.maxConnections ?? 32,
      keepAliveTimeout: 30_000,
      // Blob PUTs are answered only once the registry has stored and checked the whole blob.
      headersTimeout: 120_000,
      // Inactivity between body chunks, not a total: a 10 GB layer may take hours but never stalls for a minute.
      bodyTimeout: options.blobIdleTimeoutMs ?? 60_000,
    });
    this.clock = options.clock ?? systemClock;
    this.limiter = options.pacer ?? new TokenBucket(options.requestsPerSecond ?? 0);
    this.auth = new Authenticator(
      options.host,
      options.credentials,
      this.dispatcher,
      {
        registry: this.root,
        allowedHosts: options.tokenRealmHosts ?? [],
        deadlineMs: this.apiDeadlineMs,
        pacer: this.limiter,
      },
      this.clock,
    );
    this.retryPolicy = new HttpRetryPolicy(options.retry);
    this.userAgent = options.userAgent ?? userAgent();
    this.protocol = { insecure: options.insecure ?? false, setting: options.protocolSetting };
    this.observer = options.observer;
  }

  url(path: string): URL {
    return new URL(path, this.baseUrl);
  }

  /**
   * Sends a request and returns the final response, whatever its status, once retries, authentication and
   * redirects are exhausted. Callers check the status (see `expect`). Replayable requests are retried as
   * `retryPolicy` decides (network errors, 429/5xx); a stream body is sent once, and its failure is thrown
   * as retryable.
   */
  async send(options: RequestOptions): Promise<Response> {
    const replayable = options.replayable ?? !isStream(options.body);
    const { signal } = options;
    let authReplayed = false;
    for (let attempt = 1; ; attempt++) {
      let authorization: string | undefined;
      let res: Response;
      try {
        // The credentials first, then the pacing grant: a token fetched after the grant (paced too, behind the
        // queue) would send this request a second or more after its grant, into a window already full.
        authorization = await this.auth.header(options.scopes);
        await this.limiter.take();
        signal?.throwIfAborted();
        res = await this.dispatch(options, authorization);
        this.observer?.response(this.host, options.method, res.status);
      } catch (error) {
        // A stopped job's request fails with the stop's reason, not as a network error to retry.
        signal?.throwIfAborted();
        if (error instanceof RegistryError && !error.retryable) throw error;
        const wrapped =
          error instanceof RegistryError
            ? error
            : (mismatchFromNetwork(connectionErrorCode(error), options.context, this.protocol, error) ??
              networkError(error, options.context));
        if (!(error instanceof RegistryError)) this.observer?.unanswered(this.host, options.method, wrapped.message);
        // The policy judges the error as classified: a protocol mismatch or an untrusted certificate is final.
        const decision = replayable ? this.retryPolicy.decide(attempt, { error: wrapped }) : undefined;
        if (!decision?.retry) throw wrapped;
        if (options.counters) options.counters.retries++;
        this.observer?.retry(this.host, wrapped.status > 0 ? String(wrapped.status) : 'network');
        await this.clock.sleep(decision.delayMs, signal);
        continue;
      }
      // Only the registry itself may ask for its credentials: a 401 from elsewhere (a redirect target) is an answer.
      if (res.status === 401 && !authReplayed && this.isOwn(res.url)) {
        const challenge = res.headers['www-authenticate'];
        await res.body.dump();
        const worthReplay = this.auth.onUnauthorized(challenge, options.scopes, authorization !== undefined);
        if (worthReplay && replayable) {
          authReplayed = true;
          attempt--;
          continue;
        }
        // The refused token has been dropped, so restarting a streamed operation will authenticate afresh.
        throw errorFromResponse(401, '', options.context, { retryable: worthReplay });
      }
      if (isRetryableStatus(res.status)) {
        const retryAfterMs = parseRetryAfter(res.headers['retry-after'], this.clock.now());
        if (res.status === 429 || res.status === 503)
          this.limiter.slowDown(Math.min(retryAfterMs ?? this.retryPolicy.options.baseDelayMs, 60_000));
        const decision = replayable
          ? this.retryPolicy.decide(attempt, { status: res.status, retryAfterMs })
          : undefined;
        if (decision?.retry) {
          await res.body.dump();
          if (options.counters) options.counters.retries++;
          this.observer?.retry(this.host, String(res.status));
          await this.clock.sleep(decision.delayMs, signal);
          continue;
        }
      }
      if (res.status < 400) this.limiter.succeeded();
      return res;
    }
  }

  /**
   * Learns how the registry authenticates with one unauthenticated `GET /v2/`, when no request has told it yet:
   * what a first request's 401 would have taught, without the token a replay of that request would fetch.
   */
  async learnAuth(signal?: AbortSignal): Promise<void> {
    if (this.auth.schemeKnown) return;
    await this.limiter.take();
    const context = { host: this.host, action: 'reach' };
    const res = await this.dispatch({ method: 'GET', path: '/v2/', scopes: [], context, signal }, undefined);
    this.observer?.response(this.host, 'GET', res.status);
    await res.body.dump();
    if (res.status === 401) this.auth.onUnauthorized(res.headers['www-authenticate'], [], false);
    else if (res.status === 200) this.auth.markOpen();
  }

  /** Sends and insists on one of the given statuses; anything else becomes a typed error with the registry's reason. */
  async expect(options: RequestOptions, statuses: number[]): Promise<Response> {
    const res = await this.send(options);
    if (statuses.includes(res.status)) return res;
    throw await this.failure(res, options.context);
  }

  /** The error for an unwanted answer, with the start of its body (capped, read within the API deadline). */
  async failure(res: Response, context: ErrorContext): Promise<RegistryError> {
    let text = '';
    try {
      if (res.body) text = (await readUpTo(res.body, BODY_LIMITS.error, this.apiDeadlineMs)).bytes.toString('utf8');
    } catch {
      // An error body that does not arrive does not change the error: the status says enough.
    }
    return mismatchFromAnswer(res.status, text, context, this.protocol) ?? errorFromResponse(res.status, text, context);
  }

  /** Whether `url` is on the registry's own origin: scheme, host in any case and port with defaults filled in. */
  isOwn(url: URL): boolean {
    return sameOrigin(url, this.root);
  }

  /**
   * Waits for requests in flight; with `force`, cuts off every request of every job on this host at once.
   * To stop one job's requests, abort the `signal` it passed instead.
   */
  async close(force = false): Promise<void> {
    await (force ? this.dispatcher.destroy() : this.dispatcher.close());
  }

  private async dispatch(options: RequestOptions, authorization: string | undefined): Promise<Response> {
    let url = this.url(options.path);
    let method = options.method;
    const stream = options.stream ?? isStream(options.body);
    for (let hop = 0; ; hop++) {
      const headers: Record<string, string> = { 'user-agent': this.userAgent, ...options.headers };
      // Credentials go only to the registry's own origin: never to another host (pre-signed object storage URLs
      // carry their own), nor to its host over another scheme or port (an https→http redirect would leak them).
      if (authorization && this.isOwn(url)) headers.authorization = authorization;
      const res = await request(url, {
        method: method,
        headers,
        // undici streams async iterables natively; its typings only list Readable.
        body: (hop === 0 ? options.body : undefined) as Buffer | undefined,
        dispatcher: this.dispatcher,
        // API answers are small: the deadline bounds headers and the caller's read of the body together. A job's
        // signal is shared by all its requests at once: each gets a signal of its own, which undici listens on,
        // so the job's signal does not collect one listener per request in flight (Node warns past 10).
        ...(stream
          ? { signal: options.signal && AbortSignal.any([options.signal]) }
          : { signal: deadlineOrCancel(this.apiDeadlineMs, options.signal), headersTimeout: this.apiDeadlineMs }),
      });
      const location = res.headers.location;
      const redirect =
        [301, 302, 303, 307, 308].includes(res.statusCode) && location && (method === 'GET' || method === 'HEAD');
      if (!redirect || hop >= MAX_REDIRECTS) {
        return { status: res.statusCode, headers: res.headers, body: res.body, url };
      }
      await res.body.dump();
      url = new URL(Array.isArray(location) ? location[0] : location, url);
      if (res.statusCode === 303) method = 'GET';
    }
  }
}

/** The API deadline, and the caller's cancellation when there is one: whichever comes first. */
function deadlineOrCancel(ms: number, signal: AbortSignal | undefined): AbortSignal {
  const deadline = AbortSignal.timeout(ms);
  return signal ? AbortSignal.any([deadline, signal]) : deadline;
}

function isStream(body: RequestBody): boolean {
  return body !== undefined && !Buffer.isBuffer(body);
}

export function header(res: Response, name: string): string | undefined {
  const value = res.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
