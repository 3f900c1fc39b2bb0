// Owns who may do what: the single admin user, Harbor's /service/token endpoint, and the opaque
// tokens it issues with their granted scopes and expiry.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { basicCredentials, sendError, sendJson, type Credentials } from './http.js';
import type { HarborState } from './state.js';

export const SERVICE = 'harbor-registry';

export type Action = 'pull' | 'push' | 'delete' | '*';

interface Grant {
  repositories: Map<string, Set<string>>;
  catalog: boolean;
  expiresAt: number;
}

/** Who is asking: the admin, nobody, or someone whose Basic credentials are wrong. */
export type Caller = 'admin' | 'anonymous' | 'invalid';

/** Harbor's project roles (role ids 1-4 and 5 for limited guest). */
export type ProjectRole = 'projectAdmin' | 'maintainer' | 'developer' | 'guest' | 'limitedGuest';

/** A non-admin Harbor user and the role it has in each project it is a member of. */
export interface HarborUser extends Credentials {
  roles?: Record<string, ProjectRole>;
}

/**
 * The caller as the webhook-policy API sees it. Members other than the admin are known to that API only;
 * the rest of the stand-in (projects, repositories, /v2, tokens) treats them as anonymous.
 */
export type Identity =
  | { kind: 'admin'; username: string }
  | { kind: 'user'; username: string; roles: Record<string, ProjectRole> }
  | { kind: 'anonymous' }
  | { kind: 'invalid' };

export class Auth {
  private readonly tokens = new Map<string, Grant>();

  constructor(
    private readonly admin: Credentials,
    private readonly state: HarborState,
    private readonly expiresIn: number,
    private readonly users: HarborUser[] = [],
  ) {}

  caller(req: IncomingMessage): Caller {
    const identity = this.identify(req);
    if (identity.kind === 'user') return 'anonymous';
    return identity.kind;
  }

  identify(req: IncomingMessage): Identity {
    const creds = basicCredentials(req);
    if (creds === undefined) return { kind: 'anonymous' };
    if (creds === null) return { kind: 'invalid' };
    if (creds.username === this.admin.username && creds.password === this.admin.password)
      return { kind: 'admin', username: creds.username };
    const user = this.users.find((u) => u.username === creds.username && u.password === creds.password);
    return user ? { kind: 'user', username: user.username, roles: user.roles ?? {} } : { kind: 'invalid' };
  }

  /** What Harbor's RBAC allows without a token: admin everything; anonymous pulls public projects. */
  allowed(caller: Caller, repo: string, action: Action): boolean {
    const project = this.state.project(projectOf(repo));
    if (!project || caller === 'invalid') return false;
    if (caller === 'admin') return true;
    return action === 'pull' && project.public;
  }

  tokenAllows(token: string, repo: string, action: Action): 'ok' | 'unknown' | 'insufficient' {
    const grant = this.tokens.get(token);
    if (!grant || grant.expiresAt <= Date.now()) return 'unknown';
    const actions = grant.repositories.get(repo);
    if (actions && (actions.has(action) || actions.has('*'))) return 'ok';
    return 'insufficient';
  }

  tokenValid(token: string): boolean {
    const grant = this.tokens.get(token);
    return grant !== undefined && grant.expiresAt > Date.now();
  }

  tokenHasCatalog(token: string): boolean {
    return this.tokenValid(token) && this.tokens.get(token)!.catalog;
  }

  handleToken(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const caller = this.caller(req);
    if (caller === 'invalid') {
      sendError(res, 401, 'UNAUTHORIZED', 'invalid username or password');
      return;
    }
    const grant: Grant = { repositories: new Map(), catalog: false, expiresAt: Date.now() + this.expiresIn * 1000 };
    // Several scopes may come as repeated parameters or space-separated in one.
    const scopes = url.searchParams
      .getAll('scope')
      .flatMap((s) => s.split(' '))
      .filter(Boolean);
    for (const scope of scopes) this.grantScope(grant, caller, scope);
    const token = randomBytes(32).toString('base64url');
    this.tokens.set(token, grant);
    sendJson(res, 200, {
      token,
      access_token: token,
      expires_in: this.expiresIn,
      issued_at: new Date().toISOString(),
    });
  }

  private grantScope(grant: Grant, caller: Caller, scope: string): void {
    const first = scope.indexOf(':');
    const last = scope.lastIndexOf(':');
    if (first < 0 || last === first) return;
    const type = scope.slice(0, first);
    const name = scope.slice(first + 1, last);
    const requested = scope.slice(last + 1).split(',');
    if (type === 'registry' && name === 'catalog') {
      grant.catalog ||= caller === 'admin';
      return;
    }
    if (type !== 'repository') return;
    // Like Harbor, asking for more than you may have is not an error: the token just lacks it.
    const granted = requested.filter((a) => this.allowed(caller, name, a as Action));
    if (granted.length === 0) return;
    const actions = grant.repositories.get(name) ?? new Set<string>();
    for (const a of granted) actions.add(a);
    grant.repositories.set(name, actions);
  }
}

export function projectOf(repo: string): string {
  const slash = repo.indexOf('/');
  // Harbor has no repositories outside a project, so a bare name belongs to none.
  return slash < 0 ? '' : repo.slice(0, slash);
}
