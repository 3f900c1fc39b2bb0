// Listings: tags and catalog with Link paging, and referrers (API first, `sha256-<hex>` tag scheme as fallback).
// Names a registry lists are checked with the grammar user input meets; the bad ones are reported, never used.
import { BODY_LIMITS, readWhole } from './body.js';
import { RegistryError, type ErrorContext } from './errors.js';
import { nextLink } from './link.js';
import { getManifest, type RequestScope } from './manifests.js';
import { OCI_INDEX } from './media-types.js';
import { referrersPath, repositoryPath } from './paths.js';
import { isValidRepository, isValidTag } from './reference.js';
import type { Transport } from './transport.js';
import type { Descriptor, ImageIndex } from './types.js';

/** More names than this in one listing (valid or not) is not a registry we can sync from in one pass. */
export const MAX_LISTED_NAMES = 100_000;
/** Pages of one listing: empty pages with ever new links end here too. */
export const MAX_LISTED_PAGES = 10_000;

/** Told of each listed name that fails the grammar (it was dropped); the name is as the registry sent it. */
export type InvalidNameHandler = (kind: 'tag' | 'repository', name: string, host: string) => void;

interface PagedList {
  field: 'tags' | 'repositories';
  first: string;
  repository?: string;
  onInvalid?: InvalidNameHandler;
}

async function pagedNames(transport: Transport, list: PagedList, scope: RequestScope): Promise<string[] | undefined> {
  const { field, repository } = list;
  const ctx: ErrorContext = {
    host: transport.host,
    repository,
    action: field === 'tags' ? 'list tags on' : 'list repositories on',
  };
  const valid = field === 'tags' ? isValidTag : isValidRepository;
  const names: string[] = [];
  const seen = new Set<string>();
  let listed = 0;
  let url: URL | undefined = transport.url(list.first);
  for (let page = 0; url; page++) {
    if (page >= MAX_LISTED_PAGES) throw tooMany(ctx, `pages of ${field}`, MAX_LISTED_PAGES);
    seen.add(url.toString());
    const res = await transport.send({
      method: 'GET',
      path: url.toString(),
      headers: { accept: 'application/json' },
      context: ctx,
      ...scope,
    });
    if (res.status === 404 && page === 0) {
      await res.body.dump();
      return undefined;
    }
    if (res.status !== 200) throw await transport.failure(res, ctx);
    const text = (
      await readWhole(res.body, BODY_LIMITS.listing, transport.apiDeadlineMs, ctx, `${field} page`)
    ).toString('utf8');
    for (const name of pageNames(text, field, ctx)) {
      // Invalid names count too: a listing of nothing but bad names must end as surely as one of good ones.
      if (++listed > MAX_LISTED_NAMES) throw tooMany(ctx, field, MAX_LISTED_NAMES);
      if (typeof name !== 'string' || !valid(name))
        list.onInvalid?.(field === 'tags' ? 'tag' : 'repository', String(name), transport.host);
      else names.push(name);
    }
    url = nextLink(res.headers.link, res.url);
    // A link back to a page already read would page for ever: every page of the cycle has been read, so the list
    // is whole and ends here (registries that link their last page to itself exist). A link to another origin
    // leaves pages unread: an error, since a list cut short must not pass for whole (a sweep would take the names
    // it lacks for deleted). Links that move on for ever end at MAX_LISTED_PAGES.
    if (url && seen.has(url.toString())) break;
    if (url && !transport.isOwn(url))
      throw brokenPaging(ctx, field, `points at another origin (${url.origin}); not followed`);
  }
  return names;
}

/** A listing that failed, with what to do: every listing error has this shape. */
function listingError(ctx: ErrorContext, code: 'LISTING_INVALID' | 'LISTING_TOO_LARGE', what: string, hint: string) {
  return new RegistryError({
    code,
    status: 200,
    host: ctx.host,
    repository: ctx.repository,
    message: `${ctx.action} ${ctx.host} failed: ${what}`,
    hint,
  });
}

function brokenPaging(ctx: ErrorContext, field: string, what: string): RegistryError {
  return listingError(
    ctx,
    'LISTING_INVALID',
    `the next-page link of its ${field} ${what}`,
    `check what answers at ${ctx.host}: a registry's own paging links stay on its origin and move on`,
  );
}

function pageNames(text: string, field: 'tags' | 'repositories', ctx: ErrorContext): unknown[] {
  try {
    const body = JSON.parse(text) as Record<string, unknown> | null;
    const names = body?.[field] ?? [];
    if (Array.isArray(names)) return names;
  } catch {
    // reported below
  }
  return notAList(ctx, field);
}

function notAList(ctx: ErrorContext, field: string): never {
  throw listingError(
    ctx,
    'LISTING_INVALID',
    `the answer is not JSON with a "${field}" list`,
    `check that ${ctx.host} is a registry (Distribution API)`,
  );
}

function tooMany(ctx: ErrorContext, field: string, limit: number): RegistryError {
  return listingError(
    ctx,
    'LISTING_TOO_LARGE',
    `it lists over ${limit} ${field}`,
    'sync named repositories or tags instead of whole listings, or clean up the registry',
  );
}

/** All valid tags of a repository; undefined when the registry does not know the repository at all. */
export function listTags(
  transport: Transport,
  repository: string,
  pageSize: number,
  scope: RequestScope,
  onInvalid?: InvalidNameHandler,
): Promise<string[] | undefined> {
  return pagedNames(
    transport,
    {
      field: 'tags',
      first: `${repositoryPath(transport.host, repository)}tags/list?n=${pageSize}`,
      repository,
      onInvalid,
    },
    scope,
  );
}

export async function listRepositories(
  transport: Transport,
  pageSize: number,
  scope: RequestScope,
  onInvalid?: InvalidNameHandler,
): Promise<string[]> {
  return (
    (await pagedNames(transport, { field: 'repositories', first: `/v2/_catalog?n=${pageSize}`, onInvalid }, scope)) ??
    []
  );
}

export function referrersTag(digest: string): string {
  return digest.replace(':', '-');
}

export interface Referrers {
  descriptors: Descriptor[];
  /** `api` when the registry implements the referrers API, `tag` when found through the fallback tag. */
  source: 'api' | 'tag' | 'none';
}

export async function listReferrers(
  transport: Transport,
  repository: string,
  digest: string,
  scope: RequestScope,
): Promise<Referrers> {
  const ctx = { host: transport.host, repository, digest, action: 'list referrers on' };
  const res = await transport.send({
    method: 'GET',
    path: referrersPath(transport.host, repository, digest),
    headers: { accept: OCI_INDEX },
    context: ctx,
    ...scope,
  });
  if (res.status === 200) {
    const text = (
      await readWhole(res.body, BODY_LIMITS.referrers, transport.apiDeadlineMs, ctx, 'referrers index')
    ).toString('utf8');
    let index: ImageIndex;
    try {
      index = JSON.parse(text) as ImageIndex;
    } catch {
      throw new RegistryError({
        code: 'REFERRERS_INVALID',
        status: 200,
        host: transport.host,
        repository,
        digest,
        message: `${transport.host} answered the referrers of ${digest} with something that is not JSON`,
      });
    }
    return { descriptors: Array.isArray(index?.manifests) ? index.manifests : [], source: 'api' };
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
