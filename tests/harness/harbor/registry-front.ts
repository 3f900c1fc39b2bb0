// Owns Harbor's /v2/ front: authorising each request like Harbor's v2auth middleware (Basic
// accepted directly, Bearer tokens from /service/token, challenges for anonymous callers) and
// streaming everything else to the backing registry, noting manifest pushes on the way.
import { Agent, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { projectOf, SERVICE, type Action, type Auth } from './auth.js';
import { bearerToken, sendError } from './http.js';
import type { HarborState } from './state.js';

// Hop-by-hop headers describe one connection, not the message; node already answered `expect`.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'upgrade',
  'te',
  'trailer',
  'expect',
  'transfer-encoding',
]);

export interface FrontContext {
  state: HarborState;
  auth: Auth;
  backingUrl: URL;
  externalUrl: string;
  agent: Agent;
  /** Harbor 1.x: /v2/ takes only Bearer tokens from /service/token; Basic credentials are challenged again. */
  bearerOnly?: boolean;
  /** Called after a manifest PUT succeeded (tag undefined for a push by digest), as Harbor's PUSH_ARTIFACT fires. */
  onManifestPush?: (repo: string, digest: string, tag: string | undefined) => void;
}

interface Target {
  repo?: string;
  kind?: 'manifests' | 'blobs' | 'tags' | 'referrers';
  reference?: string;
}

function parseTarget(path: string): Target | 'catalog' | 'base' {
  if (path === '/v2/' || path === '/v2') return 'base';
  if (path === '/v2/_catalog') return 'catalog';
  const m = /^\/v2\/(.+?)\/(manifests|blobs|tags|referrers)(?:\/(.*))?$/.exec(path);
  if (!m) return {};
  return { repo: m[1], kind: m[2] as Target['kind'], reference: m[3] };
}

function actionFor(method: string): Action {
  if (method === 'GET' || method === 'HEAD') return 'pull';
  return method === 'DELETE' ? 'delete' : 'push';
}

function relayHeaders(raw: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    // The backing registry runs without auth; Harbor swaps the client's credentials for its own.
    if (!HOP_BY_HOP.has(name) && name !== 'authorization') out.push(raw[i], raw[i + 1]);
  }
  return out;
}

function challenge(ctx: FrontContext, repo: string | undefined, action: Action, extra = ''): string {
  const realm = `Bearer realm="${ctx.externalUrl}/service/token",service="${SERVICE}"`;
  if (!repo) return realm + extra;
  const actions = action === 'pull' ? 'pull' : action === 'delete' ? 'delete' : 'pull,push';
  return `${realm},scope="repository:${repo}:${actions}"${extra}`;
}

type Decision = { ok: true } | { ok: false; status: number; code: string; message: string; wwwAuthenticate?: string };

/** Who the front sees: on Harbor 1.x Basic credentials count for nothing on /v2/. */
function frontCaller(req: IncomingMessage, ctx: FrontContext): ReturnType<Auth['caller']> {
  return ctx.bearerOnly ? 'anonymous' : ctx.auth.caller(req);
}

function authorise(req: IncomingMessage, ctx: FrontContext, target: ReturnType<typeof parseTarget>): Decision {
  const method = req.method ?? 'GET';
  const caller = frontCaller(req, ctx);
  const token = bearerToken(req);
  const denied = (status: number, code: string, message: string, wwwAuthenticate?: string): Decision => ({
    ok: false,
    status,
    code,
    message,
    wwwAuthenticate,
  });

  // With an Authorization header Harbor tries Basic itself and so challenges Basic on failure.
  if (caller === 'invalid') return denied(401, 'UNAUTHORIZED', 'authentication required', 'Basic realm="harbor"');

  if (target === 'base') {
    if (caller === 'admin' || (token !== undefined && ctx.auth.tokenValid(token))) return { ok: true };
    return denied(401, 'UNAUTHORIZED', 'authentication required', challenge(ctx, undefined, 'pull'));
  }
  if (target === 'catalog') {
    if (caller === 'admin' || (token !== undefined && ctx.auth.tokenHasCatalog(token))) return { ok: true };
    return denied(
      401,
      'UNAUTHORIZED',
      'authentication required',
      ctx.bearerOnly ? `${challenge(ctx, undefined, 'pull')},scope="registry:catalog:*"` : 'Basic realm="harbor"',
    );
  }
  if (!target.repo) return denied(404, 'NOT_FOUND', `path ${req.url} was not found`);

  const repo = target.repo;
  const action = actionFor(method);
  const projectKnown = ctx.state.project(projectOf(repo)) !== undefined;
  if (caller === 'admin') {
    return projectKnown ? { ok: true } : denied(404, 'NOT_FOUND', `project ${projectOf(repo)} not found`);
  }
  const message = `unauthorized to access repository: ${repo}, action: ${action}`;
  if (token !== undefined) {
    const verdict = ctx.auth.tokenAllows(token, repo, action);
    if (verdict === 'ok') return { ok: true };
    const extra = verdict === 'insufficient' ? ',error="insufficient_scope"' : ',error="invalid_token"';
    return denied(401, 'UNAUTHORIZED', message, challenge(ctx, repo, action, extra));
  }
  return denied(401, 'UNAUTHORIZED', message, challenge(ctx, repo, action));
}

/** A cross-repository mount needs pull on the source; without it Harbor lets the upload start plain. */
function stripUnauthorisedMount(req: IncomingMessage, ctx: FrontContext, url: URL): void {
  const from = url.searchParams.get('from');
  if (!url.searchParams.has('mount') || !from) return;
  const caller = frontCaller(req, ctx);
  const token = bearerToken(req);
  const allowed =
    caller === 'admin'
      ? ctx.state.project(projectOf(from)) !== undefined
      : token !== undefined
        ? ctx.auth.tokenAllows(token, from, 'pull') === 'ok'
        : false;
  if (!allowed) {
    url.searchParams.delete('mount');
    url.searchParams.delete('from');
  }
}

export function handleV2(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: FrontContext,
  onStatus: (status: number) => void,
): void {
  const url = new URL(req.url ?? '/', 'http://front');
  const target = parseTarget(url.pathname);
  const decision = authorise(req, ctx, target);
  if (!decision.ok) {
    req.resume();
    onStatus(decision.status);
    const headers: Record<string, string> = { 'docker-distribution-api-version': 'registry/2.0' };
    if (decision.wwwAuthenticate) headers['www-authenticate'] = decision.wwwAuthenticate;
    sendError(res, decision.status, decision.code, decision.message, headers);
    return;
  }
  if (typeof target === 'object' && target.kind === 'blobs' && req.method === 'POST')
    stripUnauthorisedMount(req, ctx, url);

  const upstream = httpRequest({
    host: ctx.backingUrl.hostname,
    port: ctx.backingUrl.port,
    method: req.method,
    path: url.pathname + url.search,
    // Host stays the client's, so the registry's Location headers point back at the front.
    headers: relayHeaders(req.rawHeaders),
    agent: ctx.agent,
  });
  upstream.on('response', (upRes) => {
    const status = upRes.statusCode ?? 502;
    onStatus(status);
    if (typeof target === 'object' && target.kind === 'manifests' && target.repo && target.reference) {
      const pushed = noteManifest(
        ctx.state,
        req.method ?? 'GET',
        status,
        target.repo,
        target.reference,
        upRes.headers['docker-content-digest'],
      );
      if (pushed) ctx.onManifestPush?.(target.repo, pushed.digest, pushed.tag);
    }
    upRes.on('error', () => res.socket?.destroy());
    res.writeHead(status, upRes.statusMessage, relayHeaders(upRes.rawHeaders));
    upRes.pipe(res);
  });
  upstream.on('error', (err) => {
    if (res.headersSent) {
      res.socket?.destroy();
      return;
    }
    onStatus(502);
    sendError(res, 502, 'UNKNOWN', `backing registry: ${err.message}`);
  });
  res.on('close', () => {
    if (!res.writableFinished) upstream.destroy();
  });
  req.on('error', () => upstream.destroy());
  req.pipe(upstream);
}

/** Records manifest PUTs and DELETEs; answers what a successful PUT pushed. */
function noteManifest(
  state: HarborState,
  method: string,
  status: number,
  repo: string,
  reference: string,
  digestHeader: string | string[] | undefined,
): { digest: string; tag?: string } | undefined {
  const isDigest = reference.startsWith('sha256:');
  const digest = typeof digestHeader === 'string' ? digestHeader : isDigest ? reference : undefined;
  if (method === 'DELETE' && status === 202 && isDigest) state.forgetManifest(repo, reference);
  if (method !== 'PUT' || status !== 201 || !digest) return undefined;
  const tag = isDigest ? undefined : reference;
  state.recordManifestPut(repo, digest, tag);
  return { digest, tag };
}
