// SWR's management API (swr-api.<region>): namespaces and the temporary registry login, authenticated by
// AK/SK request signing or an IAM token. Uses fetch so that tests can stand in for Huawei's cloud with nock; every
// call bounded in time and size (fetch-via.ts).
import type { Dispatcher } from 'undici';
import { HttpRetryPolicy, systemClock, type Clock, type RequestPacer } from '../oci/index.js';
import { parseRetryAfter } from '../oci/retry.js';
import { userAgent } from '../oci/user-agent.js';
import type { TransportObserver } from '../oci/transport.js';
import { keyNames, swrApiError } from './errors.js';
import { API_CALL_LIMITS, fetchVia, unansweredReason, type ApiAnswer, type CallLimits } from './fetch-via.js';
import type { IamTokenSource } from './iam.js';
import { signRequest } from './signer.js';

export interface ManagementOptions {
  /**
   * GETs are sent again after SWR's 503 past the tenant's rate (5 times at most); a refusal or no answer is not,
   * so that the registry API takes over at once.
   */
  retry?: HttpRetryPolicy;
  clock?: Clock;
  /** The connection pool to call through (a proxy); the global one when absent. */
  dispatcher?: Dispatcher;
  /** How app.conf spells this destination's keys (`dr_`), for the advice in errors. */
  keyPrefix?: string;
  /** Each call's deadline and body caps. */
  limits?: CallLimits;
}

export type ManagementAuth = { kind: 'aksk'; ak: string; sk: string } | { kind: 'iam'; tokens: IamTokenSource };

export interface SwrNamespace {
  name: string;
  /** 7 manage, 3 edit, 1 read. */
  auth?: number;
  creator_name?: string;
}

export interface TemporaryLogin {
  username: string;
  password: string;
  expiresAt: number;
}

/** A repository's path in the management API, where a `/` inside the repository name is written `$`. */
export function repositoryPath(namespace: string, repository: string): string {
  return `/v2/manage/namespaces/${encodeURIComponent(namespace)}/repos/${encodeURIComponent(repository.replaceAll('/', '$'))}`;
}

export class SwrManagementClient {
  /** The destination registry's pacing: SWR counts management calls against the same tenant budget. */
  private pacer: RequestPacer | undefined;
  private observer: TransportObserver | undefined;
  /** Calls sent, for request totals. */
  requests = 0;

  private readonly retry: HttpRetryPolicy;
  private readonly clock: Clock;
  private readonly dispatcher: Dispatcher | undefined;
  private readonly keyPrefix: string;
  private readonly limits: CallLimits;

  constructor(
    readonly endpoint: string,
    private readonly auth: ManagementAuth,
    private readonly region: string,
    options: ManagementOptions = {},
  ) {
    this.retry = options.retry ?? new HttpRetryPolicy();
    this.clock = options.clock ?? systemClock;
    this.dispatcher = options.dispatcher;
    this.keyPrefix = options.keyPrefix ?? '';
    this.limits = options.limits ?? API_CALL_LIMITS;
  }

  /** Paced with the destination registry and told to its observer, so that the totals include these calls. */
  pacedBy(pacer: RequestPacer, observer?: TransportObserver): void {
    this.pacer = pacer;
    this.observer = observer;
  }

  /** A GET answered with JSON (the listings in listing.ts). */
  async getJson(path: string, action: string): Promise<unknown> {
    const res = await this.call('GET', path, undefined, action);
    return JSON.parse(res.text || 'null') as unknown;
  }

  /** Namespaces this account can see, with its rights on each. */
  async listNamespaces(): Promise<SwrNamespace[]> {
    const res = await this.call('GET', '/v2/manage/namespaces', undefined, 'list SWR namespaces');
    const body = JSON.parse(res.text || '{}') as { namespaces?: SwrNamespace[] };
    return body.namespaces ?? [];
  }

  /** 'created', or 'exists' when the name is taken (by this account or, names being unique per region, another). */
  async createNamespace(name: string): Promise<'created' | 'exists'> {
    const res = await this.call(
      'POST',
      '/v2/manage/namespaces',
      JSON.stringify({ namespace: name }),
      `create SWR namespace "${name}"`,
      [201, 409],
    );
    return res.status === 409 ? 'exists' : 'created';
  }

  /**
   * Deletes one tag (Huawei SDK `DeleteRepoTag`: DELETE .../repos/{repository}/tags/{tag}, no body either way);
   * `absent` when SWR has no such tag (deleted already).
   */
  async deleteTag(namespace: string, repository: string, tag: string): Promise<'deleted' | 'absent'> {
    const res = await this.call(
      'DELETE',
      `${repositoryPath(namespace, repository)}/tags/${encodeURIComponent(tag)}`,
      undefined,
      `delete tag ${tag} of SWR repository ${namespace}/${repository}`,
      [200, 204, 404],
    );
    return res.status === 404 ? 'absent' : 'deleted';
  }

  /** A registry login valid for a few hours (Password method): from the dockerconfig-style answer. */
  async temporaryLogin(): Promise<TemporaryLogin> {
    const res = await this.call(
      'POST',
      `/v2/manage/utils/secret?projectname=${encodeURIComponent(this.region)}`,
      undefined,
      'get a temporary SWR login',
    );
    const body = JSON.parse(res.text) as { auths?: Record<string, { auth?: string }> };
    const auth = Object.values(body.auths ?? {})[0]?.auth;
    const decoded = auth ? Buffer.from(auth, 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    if (colon <= 0)
      throw swrApiError('get a temporary SWR login', res.status, 'the answer holds no login', this.keyPrefix);
    const expires = Date.parse(res.headers.get('x-swr-expireat') ?? '');
    // SWR documents 6 to 24 hours; without a readable expiry assume the shorter one.
    return {
      username: decoded.slice(0, colon),
      password: decoded.slice(colon + 1),
      expiresAt: Number.isNaN(expires) ? Date.now() + 6 * 3600_000 : expires,
    };
  }

  private async call(
    method: string,
    path: string,
    body: string | undefined,
    action: string,
    ok: number[] = [200],
  ): Promise<{ status: number; text: string; headers: Headers }> {
    for (let attempt = 1; ; attempt++) {
      const answer = await this.send(method, path, body, action);
      // GETs and DELETEs are idempotent: sent again after SWR's rate-limit answers.
      const decision =
        (method === 'GET' || method === 'DELETE') && !ok.includes(answer.status)
          ? this.retry.decide(attempt, {
              status: answer.status,
              retryAfterMs: parseRetryAfter(answer.headers.get('retry-after') ?? undefined),
            })
          : undefined;
      if (decision?.retry) {
        await this.clock.sleep(decision.delayMs);
        continue;
      }
      if (!ok.includes(answer.status))
        throw swrApiError(`${action} at ${answer.host}`, answer.status, answer.text, this.keyPrefix);
      return answer;
    }
  }

  /** One signed attempt: signed again each time, since the signature carries the time. */
  private async send(
    method: string,
    path: string,
    body: string | undefined,
    action: string,
  ): Promise<{ status: number; text: string; headers: Headers; host: string }> {
    const url = new URL(path, this.endpoint);
    let headers: Record<string, string> = { 'Content-Type': 'application/json;charset=utf-8' };
    if (this.auth.kind === 'aksk') headers = signRequest({ method, url, headers, body }, this.auth.ak, this.auth.sk);
    else headers['X-Auth-Token'] = await this.auth.tokens.token();
    // Added after signing, outside the signature: a proxy that rewrites User-Agent must not break it.
    headers['User-Agent'] = userAgent();
    let res: ApiAnswer;
    await this.pacer?.take();
    this.requests++;
    try {
      res = await fetchVia(this.dispatcher, url, { method, headers, body }, this.limits);
    } catch (error) {
      this.observer?.unanswered(url.host, method, (error as Error).message);
      throw swrApiError(
        `${action} at ${url.host}`,
        0,
        `cannot reach the SWR API: ${unansweredReason(error)}; ${keyNames('check {RegionName} (or {SWRApiEndpoint})', this.keyPrefix)} and the network`,
        this.keyPrefix,
      );
    }
    this.observer?.response(url.host, method, res.status);
    if (res.status === 429 || res.status === 503) this.pacer?.slowDown(1000);
    else if (res.status < 400) this.pacer?.succeeded();
    return { ...res, host: url.host };
  }
}
