// Owns the stand-in's routes that differ by Harbor version for register-webhook: systeminfo (v1 under /api/
// before 2.0, /api/v2.0/ after), 1.x's project search `GET /api/projects?name=` (a substring match), and the
// webhook-policy paths of 1.9/1.10 (`/api/projects/:pid([0-9]+)/webhook/policies`) and 2.0-2.2 (the same
// under /api/v2.0, ids only), answered in each version's dialect (policy-dialects.ts). Harbor 2.3's policy
// routes stay in api.ts. The source-side engineer's v1 REST API (issue 12) may answer systeminfo and the
// project search too: when both exist, one of them goes.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Auth } from './auth.js';
import { sendJson } from './http.js';
import { pagingHeaders, parsePage, slicePage } from './paging.js';
import { policyDialect, type StandInVersion } from './policy-dialects.js';
import type { HarborState } from './state.js';
import { handleWebhookPolicies, MODERN_POLICY_API } from './webhook-policies.js';

export interface VersionedContext {
  state: HarborState;
  auth: Auth;
  version: StandInVersion;
  externalUrl: string;
}

/** What each played version reports as harbor_version: the last patch release of that minor. */
const HARBOR_VERSIONS: Record<StandInVersion, string> = {
  '1.8': 'v1.8.6-ae4c8e5a',
  '1.10': 'v1.10.19-1ff8bcfd',
  '2.0': 'v2.0.6-b5e8cb0e',
  '2.1': 'v2.1.6-0e4b4a56',
  '2.2': 'v2.2.4-4ac9ea8f',
  '2.3': 'v2.3.5-2a2a2ec4',
};

const V1_POLICIES = /^\/api\/projects\/([^/]+)\/webhook\/policies(?:\/([^/]+))?\/?$/;
const V2_POLICIES = /^\/api\/v2\.0\/projects\/([^/]+)\/webhook\/policies(?:\/([^/]+))?\/?$/;

function notFound(res: ServerResponse): void {
  // Beego's answer to a path no route matches (a project name where `:pid([0-9]+)` is wanted, or no route at all).
  res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'content-length': 19 }).end('404 page not found\n');
}

function systemInfo(ctx: VersionedContext, authenticated: boolean): object {
  return {
    auth_mode: 'db_auth',
    harbor_version: HARBOR_VERSIONS[ctx.version],
    ...(authenticated ? { external_url: ctx.externalUrl } : {}),
    project_creation_restriction: 'everyone',
    read_only: false,
    registry_url: new URL(ctx.externalUrl).host,
    self_registration: false,
    with_chartmuseum: false,
    with_notary: false,
  };
}

/** 1.x's GET /api/projects: name is a substring filter (SQL LIKE), paged with X-Total-Count and Link. */
function listV1Projects(req: IncomingMessage, res: ServerResponse, ctx: VersionedContext, rawPath: string, params: URLSearchParams): void {
  const page = parsePage(params);
  if ('error' in page) return sendJson(res, 400, { code: 400, message: page.error });
  const identity = ctx.auth.identify(req);
  const name = params.get('name');
  const visible = ctx.state.projects
    .filter((p) => identity.kind === 'admin' || p.public || (identity.kind === 'user' && identity.roles[p.name] !== undefined))
    .filter((p) => name === null || p.name.includes(name))
    .sort((a, b) => a.name.localeCompare(b.name));
  const items = slicePage(visible, page).map((p) => ({
    project_id: p.id,
    owner_id: 1,
    name: p.name,
    creation_time: p.creationTime,
    update_time: p.creationTime,
    deleted: false,
    owner_name: ctx.state.adminName,
    togglable: true,
    current_user_role_id: identity.kind === 'admin' ? 1 : 0,
    repo_count: 0,
    chart_count: 0,
    metadata: { public: p.public ? 'true' : 'false' },
  }));
  sendJson(res, 200, items, pagingHeaders(rawPath, params, visible.length, page));
}

/** True when the request was one of these routes (answered, or being answered). */
export function handleVersionedApi(req: IncomingMessage, res: ServerResponse, ctx: VersionedContext): boolean {
  const raw = req.url ?? '/';
  const q = raw.indexOf('?');
  const rawPath = q < 0 ? raw : raw.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
  const v1 = ctx.version.startsWith('1.');
  const get = req.method === 'GET';
  const identity = () => ctx.auth.identify(req);
  if (get && rawPath === (v1 ? '/api/systeminfo' : '/api/v2.0/systeminfo')) {
    req.resume();
    const kind = identity().kind;
    sendJson(res, 200, systemInfo(ctx, kind === 'admin' || kind === 'user'));
    return true;
  }
  if (v1 && get && rawPath === '/api/projects') {
    req.resume();
    listV1Projects(req, res, ctx, rawPath, params);
    return true;
  }
  const match = (v1 ? V1_POLICIES : V2_POLICIES).exec(rawPath);
  if (!match || ctx.version === '2.3') return false;
  const dialect = policyDialect(ctx.version, MODERN_POLICY_API);
  if (!dialect || !/^\d+$/.test(match[1]!) || (match[2] !== undefined && !/^\d+$/.test(match[2]))) {
    req.resume();
    notFound(res);
    return true;
  }
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const body = req.method === 'POST' || req.method === 'PUT' ? Buffer.concat(chunks) : undefined;
    handleWebhookPolicies({ req, res, identity: identity(), rawPath, params, body }, ctx.state, match[1]!, match[2], dialect);
  });
  return true;
}
