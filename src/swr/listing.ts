// The destination's tags and digests read from SWR's management API, so that comparing with Harbor costs one
// listing per namespace and one per repository instead of a tags/list per repository and a HEAD per tag.
// Shapes are Huawei SDK's ListReposDetails (repositories with tag names) and ListRepositoryTags (tags with
// digests, field `Tag`). Sources disagree on Content-Range, so pages are read by limit/offset until a short one.
// When the API is unreachable or refuses, callers fall back to the registry API; that is said once.
import { isDigest, isValidRepository, isValidTag } from '../oci/index.js';
import { SwrApiError } from './errors.js';
import { repositoryPath, type SwrManagementClient } from './management.js';

export const LISTING_PAGE = 100;
/**
 * A listing stops here, as a registry listing does: an API that answers full pages without end (the same page
 * again, a proxy's loop) costs a bounded number of paced requests, then the registry API takes over.
 */
export const LISTING_MAX_ROWS = 100_000;

/** What a sync asks of the destination's state; `undefined` answers mean "use the registry API instead". */
export interface DestinationListing {
  /** Repositories of a namespace (names without the namespace) and their tag names. */
  repositories(namespace: string): Promise<Map<string, string[]> | undefined>;
  /** Tags of one repository and the digest each points at. */
  tags(namespace: string, repository: string): Promise<Map<string, string> | undefined>;
  /** Management calls sent so far. */
  readonly requests: number;
}

interface RepoSummary {
  name?: unknown;
  tags?: unknown;
}

interface TagSummary {
  /** The v2 API's field; the v3 API spells it `tag`. */
  Tag?: unknown;
  tag?: unknown;
  digest?: unknown;
}

export class SwrListing implements DestinationListing {
  private refused = false;

  constructor(
    private readonly management: SwrManagementClient,
    private readonly warn: (message: string) => void,
    private readonly pageSize = LISTING_PAGE,
    private readonly maxRows = LISTING_MAX_ROWS,
  ) {}

  get requests(): number {
    return this.management.requests;
  }

  async repositories(namespace: string): Promise<Map<string, string[]> | undefined> {
    const query = `/v2/manage/repos?namespace=${encodeURIComponent(namespace)}`;
    const rows = await this.pages<RepoSummary>(query, `list the repositories of SWR namespace ${namespace}`);
    if (!rows) return undefined;
    const out = new Map<string, string[]>();
    // Names from SWR are checked as every peer's are: one that breaks the grammar is left out of the comparison
    // (its repository or tag is then compared through the registry API, or copied again).
    for (const row of rows) {
      if (typeof row.name !== 'string' || !isValidRepository(`${namespace}/${row.name}`)) continue;
      const tags = Array.isArray(row.tags)
        ? row.tags.filter((t): t is string => typeof t === 'string' && isValidTag(t))
        : [];
      out.set(row.name, tags);
    }
    return out;
  }

  async tags(namespace: string, repository: string): Promise<Map<string, string> | undefined> {
    const path = `${repositoryPath(namespace, repository)}/tags`;
    // A repository deleted since the namespace listing answers 404: it has no tags.
    const rows = await this.pages<TagSummary>(
      `${path}?`,
      `list the tags of SWR repository ${namespace}/${repository}`,
      true,
    );
    if (!rows) return undefined;
    const out = new Map<string, string>();
    for (const row of rows) {
      const tag = row.Tag ?? row.tag;
      if (typeof tag === 'string' && isValidTag(tag) && typeof row.digest === 'string' && isDigest(row.digest))
        out.set(tag, row.digest);
    }
    return out;
  }

  private async pages<T>(query: string, action: string, missingIsEmpty = false): Promise<T[] | undefined> {
    if (this.refused) return undefined;
    const rows: T[] = [];
    const separator = query.endsWith('?') ? '' : '&';
    try {
      for (let offset = 0; ; offset += this.pageSize) {
        const page = await this.management.getJson(
          `${query}${separator}limit=${this.pageSize}&offset=${offset}`,
          action,
        );
        if (!Array.isArray(page)) throw new SwrApiError(`${action}: the answer is not a list`, 200, undefined);
        rows.push(...(page as T[]));
        if (page.length < this.pageSize) return rows;
        if (rows.length >= this.maxRows)
          throw new SwrApiError(
            `${action}: ${rows.length} entries and more pages to come; stopped there`,
            200,
            undefined,
          );
      }
    } catch (error) {
      // Unreachable (0) or refused (no rights): the registry API answers the same questions, more slowly.
      const status = error instanceof SwrApiError ? error.status : 0;
      if (status === 404 && missingIsEmpty) return [];
      if (status === 0 || status === 401 || status === 403 || status === 404 || status === 200) {
        this.refused = true;
        this.warn(
          `SWR management API cannot list the destination (${(error as Error).message}); comparing through the registry API (tags/list and HEAD) instead`,
        );
      } else {
        this.warn(`${action} failed (${(error as Error).message}); this comparison uses the registry API`);
      }
      return undefined;
    }
  }
}
