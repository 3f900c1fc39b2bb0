// Owns the SWR stand-in's management API (/v2/manage/...): AK/SK-signed calls checked as Huawei's gateway
// does, namespaces from the stand-in's organizations, and the repository and tag listings answered from the
// real registry behind it, shaped as Huawei SDK's ListReposDetails and ListRepositoryTags (research notes §4.3),
// and DeleteRepoTag, which removes one tag only (the registry API cannot: its storage loses that tag's link).
import { createHash, createHmac } from 'node:crypto';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { canonicalRequest, SIGNING_ALGORITHM } from '../../../src/swr/signer.js';
import { sendJson } from './http.js';

export interface ManageContext {
  ak: string;
  sk: string;
  namespaces: Set<string>;
  backingUrl: string;
  externalUrl: string;
  /** Answer every call 403 (an account without SWR rights). */
  refuse: boolean;
  /** The backing registry's storage root, where a tag is a directory of its own. */
  storageDir: string;
}

const LIST_TYPES = new Set([
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.index.v1+json',
]);
const MANIFEST_ACCEPT = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
].join(', ');

function swrError(res: ServerResponse, status: number, code: string, message: string): void {
  // SWR's management errors are a JSON array (research notes §4.5).
  sendJson(res, status, [{ errorCode: `SVCSTG.SWR.${code}`, errorMessage: message, detail: '' }]);
}

function signatureValid(req: IncomingMessage, ctx: ManageContext, url: URL): boolean {
  const auth = req.headers.authorization ?? '';
  const m = new RegExp(`^${SIGNING_ALGORITHM} Access=([^,]+), SignedHeaders=([^,]+), Signature=([0-9a-f]+)$`).exec(
    auth,
  );
  if (!m || m[1] !== ctx.ak) return false;
  const signed = m[2].split(';');
  const headers: Record<string, string> = {};
  for (const name of signed) headers[name] = String(req.headers[name] ?? '');
  const date = headers['x-sdk-date'];
  const canonical = canonicalRequest({ method: req.method ?? 'GET', url, headers, body: '' }, signed);
  const toSign = `${SIGNING_ALGORITHM}\n${date}\n${createHash('sha256').update(canonical).digest('hex')}`;
  return createHmac('sha256', ctx.sk).update(toSign).digest('hex') === m[3];
}

async function backing(ctx: ManageContext, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(new URL(path, ctx.backingUrl), init);
}

async function tagsOf(ctx: ManageContext, repository: string): Promise<string[] | undefined> {
  const res = await backing(ctx, `/v2/${repository}/tags/list`);
  if (res.status === 404) return undefined;
  const body = (await res.json()) as { tags?: string[] | null };
  return (body.tags ?? []).sort();
}

/** The backing registry's whole catalog, page by page (Distribution caps a page at 1,000). */
async function catalog(ctx: ManageContext): Promise<string[]> {
  const names: string[] = [];
  let next: string | undefined = '/v2/_catalog?n=1000';
  while (next) {
    const res = await backing(ctx, next);
    if (res.status !== 200) throw new Error(`backing catalog: ${res.status}`);
    names.push(...(((await res.json()) as { repositories?: string[] }).repositories ?? []));
    next = /<([^>]+)>;\s*rel="next"/.exec(res.headers.get('link') ?? '')?.[1];
  }
  return names;
}

function page<T>(rows: T[], url: URL): T[] {
  const limit = Number(url.searchParams.get('limit') ?? '100');
  const offset = Number(url.searchParams.get('offset') ?? '0');
  return rows.slice(offset, offset + limit);
}

async function listRepos(res: ServerResponse, ctx: ManageContext, url: URL): Promise<void> {
  const namespace = url.searchParams.get('namespace') ?? '';
  const names = (await catalog(ctx)).filter((r) => r.startsWith(`${namespace}/`)).sort();
  const rows = [];
  for (const full of page(names, url)) {
    const tags = (await tagsOf(ctx, full)) ?? [];
    const name = full.slice(namespace.length + 1);
    rows.push({
      name,
      namespace,
      category: 'other',
      description: '',
      size: 0,
      is_public: false,
      num_images: tags.length,
      num_download: 0,
      url: '',
      path: `${new URL(ctx.externalUrl).host}/${full}`,
      internal_path: `${new URL(ctx.externalUrl).host}/${full}`,
      created: new Date(0).toISOString(),
      updated: new Date(0).toISOString(),
      domain_id: 'tenant',
      priority: 0,
      tags,
      status: false,
      total_range: names.length,
    });
  }
  sendJson(res, 200, rows, { 'content-range': `${rows.length}` });
}

async function listTags(res: ServerResponse, ctx: ManageContext, url: URL, namespace: string, repo: string) {
  const repository = `${namespace}/${repo.replaceAll('$', '/')}`;
  const tags = await tagsOf(ctx, repository);
  if (!tags || tags.length === 0) {
    swrError(res, 404, '4040047', 'repository not found');
    return;
  }
  const rows = [];
  for (const tag of page(tags, url)) {
    const head = await backing(ctx, `/v2/${repository}/manifests/${tag}`, {
      method: 'HEAD',
      headers: { accept: MANIFEST_ACCEPT },
    });
    const mediaType = (head.headers.get('content-type') ?? '').split(';')[0];
    rows.push({
      id: rows.length + 1,
      repo_id: 1,
      Tag: tag,
      image_id: '',
      manifest: '',
      digest: head.headers.get('docker-content-digest') ?? '',
      schema: 2,
      path: `${new URL(ctx.externalUrl).host}/${repository}:${tag}`,
      internal_path: '',
      size: Number(head.headers.get('content-length') ?? 0),
      is_trusted: false,
      created: new Date(0).toISOString(),
      updated: new Date(0).toISOString(),
      deleted: '',
      domain_id: 'tenant',
      scanned: false,
      tag_type: LIST_TYPES.has(mediaType) ? 1 : 0,
    });
  }
  sendJson(res, 200, rows, { 'content-range': `${rows.length}` });
}

/** DeleteRepoTag: 204 and no body (the SDK's DeleteRepoTagResponse has no field); 404 for a tag SWR does not have. */
async function deleteTag(res: ServerResponse, ctx: ManageContext, namespace: string, repo: string, tag: string) {
  const repository = `${namespace}/${repo.replaceAll('$', '/')}`;
  const dir = join(ctx.storageDir, 'docker/registry/v2/repositories', repository, '_manifests/tags', tag);
  if (!ctx.namespaces.has(namespace) || !(await stat(dir).catch(() => undefined))) {
    swrError(res, 404, '4040000', `tag ${tag} of ${repository} not found`);
    return;
  }
  await rm(dir, { recursive: true, force: true });
  res.writeHead(204).end();
}

/** Answers /v2/manage/...: signature first, then the refusal a test asked for, then the call. */
export async function handleManage(req: IncomingMessage, res: ServerResponse, ctx: ManageContext): Promise<void> {
  req.resume();
  const url = new URL(req.url ?? '/', ctx.externalUrl);
  if (!signatureValid(req, ctx, url)) {
    swrError(res, 401, '4000031', 'Incorrect IAM authentication information: verify aksk signature fail');
    return;
  }
  if (ctx.refuse) {
    swrError(res, 403, '4039001', 'Insufficient permissions for SWR');
    return;
  }
  const path = url.pathname;
  if (path === '/v2/manage/namespaces' && req.method === 'GET') {
    sendJson(res, 200, { namespaces: [...ctx.namespaces].map((name) => ({ name, auth: 7, creator_name: 'tenant' })) });
    return;
  }
  if (path === '/v2/manage/repos' && req.method === 'GET') {
    await listRepos(res, ctx, url);
    return;
  }
  const one = /^\/v2\/manage\/namespaces\/([^/]+)\/repos\/([^/]+)\/tags\/([^/]+)$/.exec(path);
  if (one && req.method === 'DELETE') {
    await deleteTag(res, ctx, decodeURIComponent(one[1]), decodeURIComponent(one[2]), decodeURIComponent(one[3]));
    return;
  }
  const tags = /^\/v2\/manage\/namespaces\/([^/]+)\/repos\/([^/]+)\/tags$/.exec(path);
  if (tags && req.method === 'GET') {
    await listTags(res, ctx, url, decodeURIComponent(tags[1]), decodeURIComponent(tags[2]));
    return;
  }
  swrError(res, 404, '4040000', `no such management call: ${req.method} ${path}`);
}
