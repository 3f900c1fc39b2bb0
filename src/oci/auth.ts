// Registry authentication: learns the scheme from the registry's challenge (none, Basic or Bearer) and
// keeps Bearer tokens per scope set until shortly before they expire; one token may serve a batch of sets.
import type { Dispatcher } from 'undici';
import { request } from './undici-parts.js';
import { BODY_LIMITS, readFailure, readUpTo } from './body.js';
import { systemClock, type Clock } from './clock.js';
import { parseChallenges, type Challenge } from './challenge.js';
import { RegistryError } from './errors.js';
import { peerText } from './peer-text.js';
import { proxyFailureOf } from './proxy-error.js';
import { grantedAccess, grants } from './token-grants.js';
import { tokenRefusal } from './token-refusal.js';
import type { RequestPacer } from './rate-limit.js';
import { realmRefusal, shownRealm, type RealmPolicy } from './token-realm.js';
import { userAgent } from './user-agent.js';

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
  /** Asked for a batch of scope sets (see `prepare`): a refusal of it stops batching on this registry. */
  batched?: boolean;
}

/** How long batched token requests stop after a refusal (see `batchesPausedUntil`). */
const BATCH_PAUSE_MS = 10 * 60_000;

/** Spec default when a token server leaves out expires_in. */
const DEFAULT_TOKEN_SECONDS = 60;

export class Authenticator {
  private scheme: 'unknown' | 'none' | 'basic' | 'bearer' = 'unknown';
  private bearer: { realm: string; service?: string } | undefined;
  private readonly tokens = new Map<string, CachedToken>();
  private readonly pending = new Map<string, Promise<CachedToken>>();
  /** Scope sets waiting for a batched token: a request for one waits, then finds it cached or asks its own. */
  private readonly batchPending = new Map<string, Promise<void>>();
  /**
   * Until when batches are not asked: the registry refused a batched token, or the realm refused or granted
   * none of a batch. A pause, not for ever: a long-running service may meet one missing namespace or one
   * token revoked early, and should not pay one token per repository for the rest of its life.
   */
  private batchesPausedUntil = 0;

  constructor(
    private readonly host: string,
    private readonly credentials: CredentialSource | undefined,
    private readonly dispatcher: Dispatcher,
    /** Where credentials may go, and the total time a token request may take. */
    private readonly limits: RealmPolicy & { deadlineMs: number; pacer?: Pick<RequestPacer, 'take'> },
    /** Reads the time for token expiry, so that tests can move it. */
    private readonly clock: Clock = systemClock,
  ) {}

  /** The Authorization header for a request needing these scopes, or undefined while the registry has asked for none. */
  async header(scopes: string[]): Promise<string | undefined> {
    if (this.scheme === 'basic') return await this.basicHeader();
    if (this.scheme !== 'bearer') return undefined;
    const key = scopeKey(scopes);
    await this.batchPending.get(key);
    const cached = this.tokens.get(key);
    if (cached && cached.expiresAt > this.clock.now()) return `Bearer ${cached.token}`;
    let inflight = this.pending.get(key);
    if (!inflight) {
      inflight = this.fetchToken(scopes).finally(() => this.pending.delete(key));
      this.pending.set(key, inflight);
    }
    const fresh = await inflight;
    this.tokens.set(key, fresh);
    return `Bearer ${fresh.token}`;
  }

  /** Whether a request has told how this registry authenticates (see `Transport.learnAuth`). */
  get schemeKnown(): boolean {
    return this.scheme !== 'unknown';
  }

  /** The registry answered without asking for credentials. */
  markOpen(): void {
    if (this.scheme === 'unknown') this.scheme = 'none';
  }

  /**
   * Asks one token for several scope sets (the repositories of a batch; the Distribution token protocol takes
   * several `scope` parameters) and caches it under each set it covers: where the token's `access` claim is
   * readable, only the sets it grants; an opaque token under all, and a 401 it meets then pauses batching.
   * Sets not covered get their own token when first used, as before. Never throws: a failed batch is only a lost
   * saving (and a failure is not answered with a burst of single requests to a registry that may be pushing back).
   */
  async prepare(scopeSets: string[][]): Promise<void> {
    if (this.scheme !== 'bearer' || this.clock.now() < this.batchesPausedUntil) return;
    const now = this.clock.now();
    const wanted = scopeSets.filter((set) => {
      const key = scopeKey(set);
      return !this.pending.has(key) && !this.batchPending.has(key) && !((this.tokens.get(key)?.expiresAt ?? 0) > now);
    });
    if (wanted.length < 2) return;
    const batch = this.fetchToken([...new Set(wanted.flat())]).catch((error: unknown) => {
      if (!(error instanceof RegistryError && error.retryable)) this.pauseBatches();
      return undefined;
    });
    const sharing = batch.then((fresh) => {
      const access = fresh && grantedAccess(fresh.token);
      let shared = 0;
      for (const set of wanted) {
        if (!fresh || (access && !set.every((scope) => grants(access, scope)))) continue;
        this.tokens.set(scopeKey(set), { ...fresh, batched: true });
        shared++;
      }
      // A realm that answered but granted none of the batch would be asked in vain again.
      if (fresh && shared === 0) this.pauseBatches();
    });
    for (const set of wanted) {
      const key = scopeKey(set);
      this.batchPending.set(
        key,
        sharing.finally(() => this.batchPending.delete(key)),
      );
    }
    await sharing;
  }

  /**
   * Called with a 401's challenge. Learns or re-learns the scheme and drops the token that was refused.
   * Returns false when a replay cannot succeed (Basic was already sent, or the challenge is unusable).
   */
  onUnauthorized(
    challengeHeader: string | string[] | undefined,
    scopes: string[],
    sentAuthorization: boolean,
  ): boolean {
    const challenges = parseChallenges(challengeHeader);
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    const basic = challenges.find((c) => c.scheme === 'basic');
    if (bearer && bearer.params.realm) {
      // A refused token may simply have expired early (revoked, clock skew): a fresh one is worth one replay.
      this.useBearer(bearer);
      const key = scopeKey(scopes);
      if (this.tokens.get(key)?.batched) this.pauseBatches();
      this.tokens.delete(key);
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

  private pauseBatches(): void {
    this.batchesPausedUntil = this.clock.now() + BATCH_PAUSE_MS;
  }

  private useBearer(challenge: Challenge): void {
    this.scheme = 'bearer';
    this.bearer = { realm: challenge.params.realm, service: challenge.params.service };
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
    const url = this.realmUrl(realm);
    if (service) url.searchParams.set('service', service);
    for (const scope of scopes) url.searchParams.append('scope', scope);
    const headers: Record<string, string> = { accept: 'application/json', 'user-agent': userAgent() };
    if (this.credentials) {
      const refusal = realmRefusal(url, this.limits, this.host);
      if (refusal) throw refusal;
      headers.authorization = await this.basicHeader();
    }
    const shown = shownRealm(url);
    const ctx = { host: this.host, action: `get a token from ${shown} for` };
    const { deadlineMs, pacer } = this.limits;
    // A realm on the registry's own host (SWR's) counts against the same request budget as the registry.
    if (pacer && url.host === this.limits.registry.host) await pacer.take();
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, {
        method: 'GET',
        headers,
        dispatcher: this.dispatcher,
        signal: AbortSignal.timeout(deadlineMs),
        headersTimeout: deadlineMs,
      });
    } catch (error) {
      // A proxy's refusal is final and says so; other failures to get an answer may pass.
      const proxy = proxyFailureOf(error);
      throw new RegistryError({
        code: proxy?.code ?? 'NETWORK',
        status: 0,
        host: url.host,
        message: `token request to ${shown} for ${this.host} failed: ${(error as Error)?.name === 'TimeoutError' ? `no answer within ${Math.round(deadlineMs / 1000)} s` : peerText((error as Error).message)}`,
        hint: proxy ? undefined : 'check that the token service is reachable',
        retryable: proxy?.retryable ?? true,
        cause: error,
      });
    }
    let read: { bytes: Buffer; truncated: boolean };
    try {
      read = await readUpTo(res.body, BODY_LIMITS.token, deadlineMs);
    } catch (error) {
      throw readFailure(error, ctx, 'token answer', deadlineMs);
    }
    const text = read.bytes.toString('utf8');
    if (res.statusCode !== 200) throw tokenRefusal(this.host, res.statusCode, text, shown, scopes);
    let body: { token?: unknown; access_token?: unknown; expires_in?: unknown } | undefined;
    try {
      body = read.truncated ? undefined : (JSON.parse(text) as typeof body);
    } catch {
      body = undefined;
    }
    const token =
      typeof body?.token === 'string'
        ? body.token
        : typeof body?.access_token === 'string'
          ? body.access_token
          : undefined;
    if (!token) {
      const why = read.truncated ? `an answer over ${BODY_LIMITS.token} bytes` : 'an answer without a token';
      throw new RegistryError({
        code: 'TOKEN_INVALID',
        status: 200,
        host: this.host,
        message: `token service ${shown} for ${this.host} sent ${why}`,
        hint: 'check that the realm named by the registry is a token service',
      });
    }
    const seconds =
      typeof body?.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : DEFAULT_TOKEN_SECONDS;
    const lifetime = seconds * 1000;
    // Renew a little before the server's deadline so that a request never leaves with a token about to die.
    const margin = Math.min(30_000, lifetime / 5);
    return { token, expiresAt: this.clock.now() + lifetime - margin };
  }

  private realmUrl(realm: string): URL {
    try {
      return new URL(realm);
    } catch {
      throw new RegistryError({
        code: 'TOKEN_REALM_INVALID',
        status: 0,
        host: this.host,
        message: `${this.host} names a token realm that is not a URL: "${peerText(realm, 200)}"`,
        hint: "check the registry's token auth configuration",
      });
    }
  }
}

function scopeKey(scopes: string[]): string {
  return [...scopes].sort().join(' ');
}

export function repositoryScope(repository: string, actions: string): string {
  return `repository:${repository}:${actions}`;
}
