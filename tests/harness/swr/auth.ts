// Owns who may log in to the SWR stand-in and the tokens it hands out: the accepted logins
// (long-term AK/SK key, extra/temporary ones), the /swr/auth/v2/registry/auth/ endpoint, and the
// grants (scopes, expiry) behind each token that the /v2 front checks.
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { basicCredentials, sendError, sendJson } from './http.js';

export const SERVICE = 'dockyard';
export const REALM_PATH = '/swr/auth/v2/registry/auth/';

export type Action = 'pull' | 'push' | 'delete' | '*';

interface Grant {
  username: string;
  repositories: Map<string, Set<string>>;
  expiresAt: number;
}

export type TokenVerdict = 'ok' | 'unknown' | 'insufficient';

export class SwrAuth {
  private readonly logins = new Map<string, string>(); // username -> password
  private readonly tokens = new Map<string, Grant>();
  // Tokens are JWT-shaped like SWR's, but only this stand-in reads them: the signing key is
  // throwaway and a token is valid only if it is in `tokens`.
  private readonly signingKey = randomBytes(32);

  constructor(private readonly expiresIn: number) {}

  addLogin(username: string, password: string): void {
    this.logins.set(username, password);
  }

  private loginOk(username: string, password: string): boolean {
    const expected = this.logins.get(username);
    return expected !== undefined && expected === password;
  }

  handleToken(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const creds = basicCredentials(req);
    // Anonymous token requests are refused too: SWR has no anonymous pulls on the token endpoint
    // that the tool could rely on, so the stand-in keeps the one strict answer.
    if (!creds || !this.loginOk(creds.username, creds.password)) {
      sendError(res, 401, 'UNAUTHORIZED', 'Authenticate Error');
      return;
    }
    const issuedAt = new Date();
    const grant: Grant = {
      username: creds.username,
      repositories: new Map(),
      expiresAt: issuedAt.getTime() + this.expiresIn * 1000,
    };
    // Scopes may come as repeated parameters or space-separated in one, as the Docker token spec allows.
    const scopes = url.searchParams
      .getAll('scope')
      .flatMap((s) => s.split(' '))
      .filter(Boolean);
    for (const scope of scopes) grantScope(grant, scope);
    const token = this.sign(grant, issuedAt);
    this.tokens.set(token, grant);
    sendJson(res, 200, { token, expires_in: this.expiresIn, issued_at: issuedAt.toISOString() });
  }

  private sign(grant: Grant, issuedAt: Date): string {
    const iat = Math.floor(issuedAt.getTime() / 1000);
    const access = [...grant.repositories].map(([name, actions]) => ({
      type: 'repository',
      name,
      actions: [...actions],
    }));
    const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
    const head = part({ alg: 'HS256', typ: 'JWT' });
    const body = part({
      iss: 'swr-standin',
      sub: grant.username,
      aud: SERVICE,
      iat,
      nbf: iat,
      exp: iat + this.expiresIn,
      jti: randomUUID(),
      access,
    });
    const signature = createHmac('sha256', this.signingKey).update(`${head}.${body}`).digest('base64url');
    return `${head}.${body}.${signature}`;
  }

  tokenValid(token: string): boolean {
    const grant = this.tokens.get(token);
    return grant !== undefined && grant.expiresAt > Date.now();
  }

  tokenAllows(token: string, repo: string, action: Action): TokenVerdict {
    if (!this.tokenValid(token)) return 'unknown';
    const actions = this.tokens.get(token)!.repositories.get(repo);
    if (!actions) return 'insufficient';
    if (actions.has(action) || actions.has('*')) return 'ok';
    // Harbor's SWR adapter asks for `push,pull` and then DELETEs manifests, so SWR must let push
    // cover delete; Distribution alone would want the `delete` action.
    if (action === 'delete' && actions.has('push')) return 'ok';
    return 'insufficient';
  }
}

/**
 * Grants every requested repository action: who owns the organization is decided by the /v2
 * front (DENIED answers there, as SWR gives them), not by trimming the token.
 */
function grantScope(grant: Grant, scope: string): void {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first < 0 || last === first) return;
  if (scope.slice(0, first) !== 'repository') return; // no catalog on SWR (/v2/_catalog is 404)
  const name = scope.slice(first + 1, last);
  const actions = grant.repositories.get(name) ?? new Set<string>();
  for (const a of scope.slice(last + 1).split(',')) if (a) actions.add(a);
  grant.repositories.set(name, actions);
}
