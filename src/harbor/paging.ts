// Owns walking Harbor's paged lists (X-Total-Count / Link rel="next", v1 and v2.0 alike) safely: a next link
// is followed only on Harbor's own origin (credentials go with every page) and a page asked twice ends
// the walk with an error instead of looping.
import { nextLink } from '../oci/link.js';
import { HarborError } from './errors.js';
import type { HarborClient, HarborResponse } from './client.js';

const MAX_PAGES = 10_000;
/** As registry and SWR listings: past this many items a list is not Harbor's to give in one walk. */
const MAX_ITEMS = 100_000;

/** How one page is asked for; by default a GET that insists on 200 (callers with their own error wording pass theirs). */
export type PageFetcher = (pathAndQuery: string) => Promise<HarborResponse>;

/** Every item of a paged Harbor list, from `first` (a path on Harbor) to the last page. */
export async function harborPages<T>(
  harbor: Pick<HarborClient, 'baseUrl' | 'call'>,
  first: string,
  fetchPage?: PageFetcher,
): Promise<T[]> {
  const fetch = fetchPage ?? ((path: string) => harbor.call('GET', path, { ok: [200] }));
  const origin = new URL(harbor.baseUrl).origin;
  const seen = new Set<string>();
  const items: T[] = [];
  let url: URL | undefined = new URL(first, harbor.baseUrl);
  while (url) {
    if (seen.has(url.href))
      throw new HarborError(
        `Harbor's paging of ${url.pathname} leads back to a page already read (${seen.size} pages read); stopped instead of looping`,
        0,
        'BAD_PAGING',
      );
    if (seen.size >= MAX_PAGES)
      throw new HarborError(
        `Harbor's list at ${url.pathname} goes on past ${MAX_PAGES} pages; stopped`,
        0,
        'BAD_PAGING',
      );
    seen.add(url.href);
    const res = await fetch(url.pathname + url.search);
    if (res.json !== null && !Array.isArray(res.json))
      throw new HarborError(`Harbor answered ${url.pathname} with something else than a list`, 200, 'BAD_RESPONSE');
    items.push(...((res.json as T[] | null) ?? []));
    if (items.length > MAX_ITEMS)
      throw new HarborError(
        `Harbor's list at ${url.pathname} holds more than ${MAX_ITEMS} items; stopped there`,
        0,
        'BAD_PAGING',
      );
    const next = nextLink(res.headers.link, url);
    // URL.origin lower-cases the host and drops default ports, so `HARBOR:443` and `harbor` compare equal.
    if (next && next.origin !== origin) {
      throw new HarborError(
        `Harbor's next-page link for ${url.pathname} points at another origin (${next.origin}, not ${origin}); not followed, so that no credentials leave for it`,
        0,
        'BAD_PAGING',
      );
    }
    url = next;
  }
  return items;
}
