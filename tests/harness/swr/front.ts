// Owns SWR's /v2/ front: refusing Basic and unknown tokens with SWR's Bearer challenge, the
// organization checks (missing / another tenant's), refusing OCI manifests, SWR's answers for
// _catalog and tags/list, and streaming everything else to the real backing registry.
import { Agent, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { REALM_PATH, SERVICE, type Action, type SwrAuth } from './auth.js';
import { bearerToken, sendError, sendJson, sendText } from './http.js';

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

const OCI_MANIFEST_TYPES = new Set([
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
]);
// Distribution refuses manifests above 4 MiB; the stand-in buffers manifest PUTs, so it caps too.
const MANIFEST_LIMIT = 4 * 1024 * 1024;

export interface FrontContext {
  auth: SwrAuth;
  /** The tenant's organizations, and those of other tenants; read on every request (tests mutate). */
  namespaces: Set<string>;
  foreignNamespaces: Set<string>;
  mounts: boolean;
  backingUrl: URL;
  externalUrl: string;
  agent: Agent;
}

interface Target {
  repo: string;
  kind: 'manifests' | 'blobs' | 'tags' | 'referrers';
  reference: string | undefined;
}

function parseTarget(path: string): Target | 'catalog' | 'base' | undefined {
  if (path === '/v2/' || path === '/v2') return 'base';
  if (path === '/v2/_catalog') return 'catalog';
  const m = /^\/v2\/(.+?)\/(manifests|blobs|tags|referrers)(?:\/(.*))?$/.exec(path);
  if (!m) return undefined;
  return { repo: m[1], kind: m[2] as Target['kind'], reference: m[3] };
}

function actionFor(method: string): Action {
  if (method === 'GET' || method === 'HEAD') return 'pull';
  return method === 'DELETE' ? 'delete' : 'push';
}

function relayHeaders(raw: string[], drop: Set<string> = new Set()): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    // The backing registry runs without auth; the front has already checked the caller's token.
    if (!HOP_BY_HOP.has(name) && name !== 'authorization' && !drop.has(name)) out.push(raw[i], raw[i + 1]);
  }
  return out;
}

function namespaceOf(repo: string): string | undefined {
  const slash = repo.indexOf('/');
  return slash < 0 ? undefined : repo.slice(0, slash);
}

type Check = { ok: true } | { ok: false; status: number; code: string; message: string; challenge?: string };

function denied(status: number, code: string, message: string, challenge?: string): Check {
  return { ok: false, status, code, message, challenge };
}

function challenge(ctx: FrontContext, repo?: string, action?: Action, error?: string): string {
  let value = `Bearer realm="${ctx.externalUrl}${REALM_PATH}",service="${SERVICE}"`;
  // The observed SWR challenge is the bare one of GET /v2/; for repository operations the scope
  // is added as Distribution does (undocumented for SWR), so Docker-style clients know what to ask.
  if (repo) value += `,scope="repository:${repo}:${action === 'pull' ? 'pull' : 'pull,push'}"`;
  if (error) value += `,error="${error}"`;
  return value;
}

function authorise(req: IncomingMessage, ctx: FrontContext, target: Target | 'base'): Check {
  const token = bearerToken(req);
  const repo = target === 'base' ? undefined : target.repo;
  const action = actionFor(req.method ?? 'GET');
  // SWR refuses Basic on /v2 (notes §4.2): the caller must go through the token endpoint.
  if (token === undefined) return denied(401, 'UNAUTHORIZED', 'authentication required', challenge(ctx, repo, action));
  if (target === 'base') {
    return ctx.auth.tokenValid(token)
      ? { ok: true }
      : denied(401, 'UNAUTHORIZED', 'authentication required', challenge(ctx, undefined, undefined, 'invalid_token'));
  }
  const verdict = ctx.auth.tokenAllows(token, target.repo, action);
  if (verdict === 'unknown')
    return denied(401, 'UNAUTHORIZED', 'authentication required', challenge(ctx, repo, action, 'invalid_token'));
  if (verdict === 'insufficient') {
    return denied(
      401,
      'UNAUTHORIZED',
      `access to ${target.repo} (${action}) not granted by the token`,
      challenge(ctx, repo, action, 'insufficient_scope'),
    );
  }
  return organizationCheck(ctx, target.repo, action);
}

function organizationCheck(ctx: FrontContext, repo: string, action: Action): Check {
  const ns = namespaceOf(repo);
  // Every SWR image is <organization>/<name>; a bare name has no organization to belong to.
  // What SWR answers for one is undocumented; NAME_INVALID is Distribution's code for it.
  if (ns === undefined) return denied(400, 'NAME_INVALID', `invalid repository name ${repo}: no organization`);
  // Organizations of another tenant exist (names are unique per region) but are not ours. SWR's
  // exact answer there is NOT documented: the stand-in uses the 401 DENIED "Authenticate Error"
  // seen on SWR pushes without rights (harbor #9763).
  if (ctx.foreignNamespaces.has(ns) && !ctx.namespaces.has(ns)) {
    return denied(401, 'DENIED', 'Authenticate Error', challenge(ctx, repo, action));
  }
  // Observed (3rd party): a missing organization is a 401 DENIED, not an auto-create.
  if (!ctx.namespaces.has(ns))
    return denied(401, 'DENIED', 'Image organization does not exist', challenge(ctx, repo, action));
  return { ok: true };
}

/** A cross-repository mount needs pull on an organization of ours; otherwise it starts a plain upload. */
function mountAllowed(req: IncomingMessage, ctx: FrontContext, from: string): boolean {
  const token = bearerToken(req);
  if (!ctx.mounts || token === undefined) return false;
  if (ctx.auth.tokenAllows(token, from, 'pull') !== 'ok') return false;
  const ns = namespaceOf(from);
  return ns !== undefined && ctx.namespaces.has(ns);
}

function mediaTypeOf(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0].trim().toLowerCase();
}

function isOciManifest(contentType: string | undefined, body: Buffer): boolean {
  if (OCI_MANIFEST_TYPES.has(mediaTypeOf(contentType))) return true;
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { mediaType?: unknown };
    return typeof parsed.mediaType === 'string' && OCI_MANIFEST_TYPES.has(parsed.mediaType);
  } catch {
    return false; // not JSON: the backing registry gives its own MANIFEST_INVALID
  }
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) over = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(over ? undefined : Buffer.concat(chunks)));
    req.on('error', reject);
    req.on('close', () => {
      if (!req.complete) reject(new Error('client went away mid-manifest'));
    });
  });
}

export function handleV2(req: IncomingMessage, res: ServerResponse, ctx: FrontContext): void {
  const url = new URL(req.url ?? '/', 'http://front');
  const target = parseTarget(url.pathname);
  if (target === 'catalog') {
    req.resume();
    // Observed: SWR has no catalog. The body is Go's plain not-found page (the route is absent).
    sendText(res, 404, '404 page not found\n');
    return;
  }
  if (target === undefined) {
    req.resume();
    sendText(res, 404, '404 page not found\n');
    return;
  }
  const check = authorise(req, ctx, target);
  if (!check.ok) {
    req.resume();
    const headers: Record<string, string> = { 'docker-distribution-api-version': 'registry/2.0' };
    if (check.challenge) headers['www-authenticate'] = check.challenge;
    sendError(res, check.status, check.code, check.message, headers);
    return;
  }
  if (target === 'base') {
    req.resume();
    sendJson(res, 200, {}, { 'docker-distribution-api-version': 'registry/2.0' });
    return;
  }

  if (target.kind === 'blobs' && req.method === 'POST' && url.searchParams.has('mount')) {
    const from = url.searchParams.get('from');
    if (!from || !mountAllowed(req, ctx, from)) {
      // As a registry without (or refusing) cross-repo mount: a plain upload session, 202.
      url.searchParams.delete('mount');
      url.searchParams.delete('from');
    }
  }

  if (target.kind === 'manifests' && req.method === 'PUT') {
    readBody(req, MANIFEST_LIMIT).then(
      (body) => {
        if (body === undefined) {
          sendError(res, 400, 'MANIFEST_INVALID', 'manifest too large', {}, '');
        } else if (isOciManifest(req.headers['content-type'], body)) {
          // SWR basic edition's answer to OCI manifests and indexes (notes §0.2, §7).
          sendError(res, 400, 'MANIFEST_INVALID', "Invalid image, fail to parse 'manifest.json'", {}, '');
        } else {
          forward(req, res, ctx, url, target, body);
        }
      },
      () => res.destroy(),
    );
    return;
  }
  forward(req, res, ctx, url, target, undefined);
}

/** Streams the request to the backing registry (or sends `body` when already read) and the answer back. */
function forward(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: FrontContext,
  url: URL,
  target: Target,
  body: Buffer | undefined,
): void {
  const headers = relayHeaders(req.rawHeaders, body ? new Set(['content-length']) : undefined);
  if (body) headers.push('Content-Length', String(body.length));
  const upstream = httpRequest({
    host: ctx.backingUrl.hostname,
    port: ctx.backingUrl.port,
    method: req.method,
    path: url.pathname + url.search,
    // Host stays the client's, so the registry's upload Location headers point back at the front.
    headers,
    agent: ctx.agent,
  });
  upstream.on('response', (upRes) => {
    const status = upRes.statusCode ?? 502;
    if (target.kind === 'tags' && target.reference === 'list' && req.method === 'GET' && status === 404) {
      // Observed SWR answer for a repository that does not exist (in an existing organization).
      upRes.resume();
      sendJson(res, 200, { name: target.repo, tags: null });
      return;
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
    sendError(res, 502, 'UNKNOWN', `backing registry: ${err.message}`);
  });
  res.on('close', () => {
    if (!res.writableFinished) upstream.destroy();
  });
  if (body) {
    upstream.end(body);
  } else {
    req.on('error', () => upstream.destroy());
    req.pipe(upstream);
  }
}
