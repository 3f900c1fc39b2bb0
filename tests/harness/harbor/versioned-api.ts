// Owns the stand-in's webhook-policy routes that differ by Harbor version: 1.9/1.10's
// `/api/projects/:pid([0-9]+)/webhook/policies` and 2.0-2.2's (the same under /api/v2.0, ids only), answered in
// each version's dialect (policy-dialects.ts). Harbor 2.3's policy routes stay in api.ts; systeminfo and the
// rest of API v1 are in systeminfo.ts and api-v1.ts.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Auth } from './auth.js';
import { policyDialect, type StandInVersion } from './policy-dialects.js';
import type { HarborState } from './state.js';
import { handleWebhookPolicies, MODERN_POLICY_API } from './webhook-policies.js';

export interface VersionedContext {
  state: HarborState;
  auth: Auth;
  version: StandInVersion;
}

const V1_POLICIES = /^\/api\/projects\/([^/]+)\/webhook\/policies(?:\/([^/]+))?\/?$/;
const V2_POLICIES = /^\/api\/v2\.0\/projects\/([^/]+)\/webhook\/policies(?:\/([^/]+))?\/?$/;

function notFound(res: ServerResponse): void {
  // Beego's answer to a path no route matches (a project name where `:pid([0-9]+)` is wanted, or no route at all).
  res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'content-length': 19 }).end('404 page not found\n');
}

/** True when the request was one of these routes (answered, or being answered). */
export function handleVersionedApi(req: IncomingMessage, res: ServerResponse, ctx: VersionedContext): boolean {
  const raw = req.url ?? '/';
  const q = raw.indexOf('?');
  const rawPath = q < 0 ? raw : raw.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
  const v1 = ctx.version.startsWith('1.');
  const identity = () => ctx.auth.identify(req);
  const match = (v1 ? V1_POLICIES : V2_POLICIES).exec(rawPath);
  if (!match || ctx.version === '2.3') return false;
  const dialect = policyDialect(ctx.version, MODERN_POLICY_API);
  if (!dialect || !/^\d+$/.test(match[1]) || (match[2] !== undefined && !/^\d+$/.test(match[2]))) {
    req.resume();
    notFound(res);
    return true;
  }
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const body = req.method === 'POST' || req.method === 'PUT' ? Buffer.concat(chunks) : undefined;
    handleWebhookPolicies(
      { req, res, identity: identity(), rawPath, params, body },
      ctx.state,
      match[1],
      match[2],
      dialect,
    );
  });
  return true;
}
