// Listings: tags and catalog with Link paging, and referrers (API first, `sha256-<hex>` tag scheme as fallback).
import { RegistryError } from './errors.js';
import { nextLink } from './link.js';
import { getManifest, type RequestScope } from './manifests.js';
import { OCI_INDEX } from './media-types.js';
import { readLimited, type Transport } from './transport.js';
import type { Descriptor, ImageIndex } from './types.js';

async function pagedNames(transport: Transport, first: string, field: 'tags' | 'repositories', repository: string | undefined, scope: RequestScope): Promise<string[] | undefined> {
  const ctx = { host: transport.host, repository, action: field === 'tags' ? 'list tags on' : 'list repositories on' };
  const names: string[] = [];
  let url: string | undefined = first;
  for (let page = 0; url; page++) {
    const res = await transport.send({ method: 'GET', path: url, headers: { accept: 'application/json' }, context: ctx, ...scope });
    if (res.status === 404 && page === 0) {
      await res.body.dump();
      return undefined;
    }
    if (res.status !== 200) throw await transport.failure(res, ctx);
    const body = JSON.parse(await readLimited(res.body, 64 * 1024 * 1024)) as Record<string, string[] | null>;
    names.push(...(body[field] ?? []));
    url = nextLink(res.headers.link, res.url)?.toString();
    if (page > 100_000) throw new RegistryError({ code: 'PAGING_LOOP', status: 200, host: transport.host, message: `${transport.host} keeps returning more pages` });
  }
  return names;
}

/** All tags of a repository; undefined when the registry does not know the repository at all. */
export function listTags(transport: Transport, repository: string, pageSize: number, scope: RequestScope): Promise<string[] | undefined> {
  return pagedNames(transport, `/v2/${repository}/tags/list?n=${pageSize}`, 'tags', repository, scope);
}

export async function listRepositories(transport: Transport, pageSize: number, scope: RequestScope): Promise<string[]> {
  return (await pagedNames(transport, `/v2/_catalog?n=${pageSize}`, 'repositories', undefined, scope)) ?? [];
}

export function referrersTag(digest: string): string {
  return digest.replace(':', '-');
}

export interface Referrers {
  descriptors: Descriptor[];
  /** `api` when the registry implements the referrers API, `tag` when found through the fallback tag. */
  source: 'api' | 'tag' | 'none';
}

export async function listReferrers(transport: Transport, repository: string, digest: string, scope: RequestScope): Promise<Referrers> {
  const ctx = { host: transport.host, repository, digest, action: 'list referrers on' };
  const res = await transport.send({ method: 'GET', path: `/v2/${repository}/referrers/${digest}`, headers: { accept: OCI_INDEX }, context: ctx, ...scope });
  if (res.status === 200) {
    const index = JSON.parse(await readLimited(res.body, 4 * 1024 * 1024)) as ImageIndex;
    return { descriptors: index.manifests ?? [], source: 'api' };
  }
  if (res.status !== 404 && res.status !== 400 && res.status !== 405) throw await transport.failure(res, ctx);
  await res.body.dump();
  try {
    const fallback = await getManifest(transport, repository, referrersTag(digest), scope);
    const manifests = (fallback.parsed as ImageIndex).manifests;
    return { descriptors: Array.isArray(manifests) ? manifests : [], source: 'tag' };
  } catch (error) {
    if (error instanceof RegistryError && error.status === 404) return { descriptors: [], source: 'none' };
    throw error;
  }
}
