// IAM tokens for HWAuthMethod=Password: POST /v3/auth/tokens with the account (HWDomain), user (HWUser, or the
// account itself when empty) and password, scoped to the region's project. Cached until near expiry.
import type { Dispatcher } from 'undici';
import { userAgent } from '../oci/user-agent.js';
import { keyNames, swrApiError } from './errors.js';
import { fetchVia, unansweredReason, type ApiAnswer, type CallLimits } from './fetch-via.js';

export interface IamCredentials {
  endpoint: string;
  domain: string;
  user?: string;
  password: string;
  region: string;
  /** The connection pool to call IAM through (a proxy); the global one when absent. */
  dispatcher?: Dispatcher;
  /** How app.conf spells this destination's keys (`dr_`), for the advice in errors. */
  keyPrefix?: string;
  /** The call's deadline and body caps (fetch-via.ts's by default). */
  limits?: CallLimits;
}

interface CachedToken {
  token: string;
  expiresAt: number;
}

export class IamTokenSource {
  private cached: CachedToken | undefined;
  private pending: Promise<CachedToken> | undefined;

  constructor(private readonly credentials: IamCredentials) {}

  async token(): Promise<string> {
    if (this.cached && this.cached.expiresAt > Date.now()) return this.cached.token;
    this.pending ??= this.fetch().finally(() => (this.pending = undefined));
    this.cached = await this.pending;
    return this.cached.token;
  }

  private async fetch(): Promise<CachedToken> {
    const { endpoint, domain, user, password, region, keyPrefix = '' } = this.credentials;
    const body = {
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: user || domain, password, domain: { name: domain } } },
        },
        scope: { project: { name: region } },
      },
    };
    let res: ApiAnswer;
    try {
      res = await fetchVia(
        this.credentials.dispatcher,
        new URL('/v3/auth/tokens', endpoint),
        {
          method: 'POST',
          headers: { 'content-type': 'application/json;charset=utf8', 'user-agent': userAgent() },
          body: JSON.stringify(body),
        },
        this.credentials.limits,
      );
    } catch (error) {
      throw swrApiError(
        `IAM token request to ${endpoint}`,
        0,
        `cannot reach IAM: ${unansweredReason(error)}`,
        keyPrefix,
      );
    }
    const { text } = res;
    if (res.status !== 201 && res.status !== 200) {
      const error = swrApiError(
        `IAM token request for ${user || domain} in account ${domain}`,
        res.status,
        text,
        keyPrefix,
      );
      if (res.status === 401)
        error.message = `IAM refused the login of ${user || domain} in account ${domain}: ${keyNames('check {HWDomain}, {HWUser} and {HWPassword}', keyPrefix)}`;
      throw error;
    }
    const token = res.headers.get('x-subject-token');
    if (!token)
      throw swrApiError('IAM token request', res.status, 'the answer had no X-Subject-Token header', keyPrefix);
    let expiresAt = Date.now() + 23 * 3600_000;
    try {
      const parsed = JSON.parse(text) as { token?: { expires_at?: string } };
      if (parsed.token?.expires_at) expiresAt = Date.parse(parsed.token.expires_at);
    } catch {
      // the header is what matters; the body only refines the lifetime
    }
    // Renew an hour early: a sync must never start with a token about to die.
    return { token, expiresAt: expiresAt - 3600_000 };
  }
}
