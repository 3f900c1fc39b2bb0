// Owns the fixtures' own HTTP path to a registry (undici `request`, Basic or Bearer auth).
// Deliberately separate from src/: fixtures must not depend on the client under test.
import type { Readable } from 'node:stream';
import { request } from 'undici';

export interface RegistryAccess {
  url: string;
  auth: 'none' | 'htpasswd' | 'token';
  username?: string;
  password?: string;
  tokenServer?: { realm: string; service: string };
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface Call {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path under the registry (starting with /v2/) or an absolute URL such as an upload Location. */
  path: string;
  /** Repository whose scope a token must cover. */
  repo?: string;
  headers?: Record<string, string>;
  /** A factory, so a request that meets a stale token can be sent again with a fresh body. */
  body?: () => Buffer | Readable;
}

const tokens = new Map<string, string>();

function basic(target: RegistryAccess): string {
  return 'Basic ' + Buffer.from(`${target.username ?? ''}:${target.password ?? ''}`).toString('base64');
}

async function fetchToken(target: RegistryAccess, repo: string | undefined): Promise<string> {
  const server = target.tokenServer;
  if (!server) throw new Error(`registry ${target.url} uses token auth but has no tokenServer`);
  const url = new URL(server.realm);
  url.searchParams.set('service', server.service);
  url.searchParams.set('scope', repo ? `repository:${repo}:pull,push` : 'registry:catalog:*');
  const res = await request(url, { method: 'GET', headers: { authorization: basic(target) } });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`token server answered ${res.statusCode}: ${text}`);
  const parsed = JSON.parse(text) as { token?: string; access_token?: string };
  const token = parsed.token ?? parsed.access_token;
  if (!token) throw new Error('token server answered without a token');
  return token;
}

async function authorization(
  target: RegistryAccess,
  repo: string | undefined,
  fresh: boolean,
): Promise<string | undefined> {
  if (target.auth === 'none') return undefined;
  if (target.auth === 'htpasswd') return basic(target);
  const key = `${target.url}\0${repo ?? ''}`;
  let token = fresh ? undefined : tokens.get(key);
  if (!token) {
    token = await fetchToken(target, repo);
    tokens.set(key, token);
  }
  return `Bearer ${token}`;
}

export function resolve(target: RegistryAccess, path: string): string {
  return new URL(path, target.url).toString();
}

async function send(target: RegistryAccess, call: Call, freshToken: boolean): Promise<Reply> {
  const headers: Record<string, string> = { ...call.headers };
  const auth = await authorization(target, call.repo, freshToken);
  if (auth) headers.authorization = auth;
  const res = await request(resolve(target, call.path), {
    method: call.method,
    headers,
    body: call.body?.() ?? null,
  });
  // Only small bodies (manifests, errors, JSON) come through here; blob reads use blobStream().
  const body = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, headers: res.headers, body };
}

export async function call(target: RegistryAccess, c: Call): Promise<Reply> {
  const reply = await send(target, c, false);
  if (reply.status === 401 && target.auth === 'token') return send(target, c, true);
  return reply;
}

/** GET a blob as a stream; the caller must consume or destroy it. */
export async function blobStream(
  target: RegistryAccess,
  repo: string,
  digest: string,
): Promise<{ status: number; body: Readable }> {
  const headers: Record<string, string> = {};
  const auth = await authorization(target, repo, false);
  if (auth) headers.authorization = auth;
  const res = await request(resolve(target, `/v2/${repo}/blobs/${digest}`), { method: 'GET', headers });
  return { status: res.statusCode, body: res.body };
}

export function header(reply: Reply, name: string): string | undefined {
  const v = reply.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

export function describe(reply: Reply): string {
  return `${reply.status} ${reply.body.toString('utf8').slice(0, 300)}`;
}
