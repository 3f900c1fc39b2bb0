// Registry authentication: learns the scheme from the registry's challenge (none, Basic or Bearer) and
// keeps Bearer tokens per scope set until shortly before they expire.
import { request, type Dispatcher } from 'undici';
import { parseChallenges, type Challenge } from './challenge.js';
import { RegistryError } from './errors.js';

export interface Credentials {
  username: string;
  password: string;
}

/** Credentials that change over time (a temporary registry login renewed before it expires). */
export interface CredentialProvider {
  get(): Promise<Credentials>;
}

export type CredentialSource = Credentials | CredentialProvider;

function isProvider(source: CredentialSource): source is CredentialProvider {
  return typeof (source as CredentialProvider).get === 'function';
}

interface CachedToken {
  token: string;
  expiresAt: number;
}

/** Spec default when a token server leaves out expires_in. */
const DEFAULT_TOKEN_SECONDS = 60;

export class Authenticator {
  private scheme: 'unknown' | 'none' | 'basic' | 'bearer' = 'unknown';
  private bearer: { realm: string; service?: string } | undefined;
  private readonly tokens = new Map<string, CachedToken>();
  private readonly pending = new Map<string, Promise<CachedToken>>();

  constructor(
    private readonly host: string,
    private readonly credentials: CredentialSource | undefined,
    private readonly dispatcher: Dispatcher,
  ) {}

  /** The Authorization header for a request needing these scopes, or undefined while the registry has asked for none. */
  async header(scopes: string[]): Promise<string | undefined> {
    if (this.scheme === 'basic') return await this.basicHeader();
    if (this.scheme !== 'bearer') return undefined;
    const key = scopeKey(scopes);
    const cached = this.tokens.get(key);
    if (cached && cached.expiresAt > Date.now()) return `Bearer ${cached.token}`;
    let inflight = this.pending.get(key);
    if (!inflight) {
      inflight = this.fetchToken(scopes).finally(() => this.pending.delete(key));
      this.pending.set(key, inflight);
    }
    const fresh = await inflight;
    this.tokens.set(key, fresh);
    return `Bearer ${fresh.token}`;
  }

  /**
   * Called with a 401's challenge. Learns or re-learns the scheme and drops the token that was refused.
   * Returns false when a replay cannot succeed (Basic was already sent, or the challenge is unusable).
   */
  onUnauthorized(challengeHeader: string | string[] | undefined, scopes: string[], sentAuthorization: boolean): boolean {
    const challenges = parseChallenges(challengeHeader);
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    const basic = challenges.find((c) => c.scheme === 'basic');
    if (bearer && bearer.params.realm) {
      // A refused token may simply have expired early (revoked, clock skew): a fresh one is worth one replay.
      this.useBearer(bearer);
      this.tokens.delete(scopeKey(scopes));
      return true;
    }
    if (basic) {
      const first = this.scheme !== 'basic';
      this.scheme = 'basic';
      if (!this.credentials) throw this.missingCredentials();
      return first || !sentAuthorization;
    }
    return false;
  }

  private useBearer(challenge: Challenge): void {
    this.scheme = 'bearer';
    this.bearer = { realm: challenge.params.realm!, service: challenge.params.service };
  }

  private async basicHeader(): Promise<string> {
    if (!this.credentials) throw this.missingCredentials();
    const { username, password } = isProvider(this.credentials) ? await this.credentials.get() : this.credentials;
    return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  }

  private missingCredentials(): RegistryError {
    return new RegistryError({
      code: 'UNAUTHORIZED',
      status: 401,
      host: this.host,
      message: `${this.host} requires authentication`,
      hint: 'give credentials for it (user:password)',
    });
  }

  private async fetchToken(scopes: string[]): Promise<CachedToken> {
    const { realm, service } = this.bearer!;
    const url = new URL(realm);
    if (service) url.searchParams.set('service', service);
    for (const scope of scopes) url.searchParams.append('scope', scope);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.credentials) headers.authorization = await this.basicHeader();
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, { method: 'GET', headers, dispatcher: this.dispatcher });
    } catch (error) {
      throw new RegistryError({
        code: 'NETWORK',
        status: 0,
        host: url.host,
        message: `token request to ${url.origin}${url.pathname} for ${this.host} failed: ${(error as Error).message}`,
        hint: 'check that the token service is reachable',
        retryable: true,
        cause: error,
      });
    }
    const text = await res.body.text();
    if (res.statusCode !== 200) {
      const denied = res.statusCode === 401 || res.statusCode === 403;
      throw new RegistryError({
        code: denied ? 'UNAUTHORIZED' : `TOKEN_HTTP_${res.statusCode}`,
        status: res.statusCode,
        host: this.host,
        message: `token service ${url.origin}${url.pathname} refused a token for ${scopes.join(' ') || 'the registry'} (${res.statusCode})`,
        hint: denied ? `check the credentials used for ${this.host}` : 'the token service failed; retry later',
        retryable: res.statusCode >= 500 || res.statusCode === 429,
      });
    }
    const body = JSON.parse(text) as { token?: string; access_token?: string; expires_in?: number; issued_at?: string };
    const token = body.token ?? body.access_token;
    if (!token) {
      throw new RegistryError({ code: 'TOKEN_INVALID', status: 200, host: this.host, message: `token service for ${this.host} answered without a token` });
    }
    const lifetime = (body.expires_in && body.expires_in > 0 ? body.expires_in : DEFAULT_TOKEN_SECONDS) * 1000;
    // Renew a little before the server's deadline so that a request never leaves with a token about to die.
    const margin = Math.min(30_000, lifetime / 5);
    return { token, expiresAt: Date.now() + lifetime - margin };
  }
}

function scopeKey(scopes: string[]): string {
  return [...scopes].sort().join(' ');
}

export function repositoryScope(repository: string, actions: string): string {
  return `repository:${repository}:${actions}`;
}
