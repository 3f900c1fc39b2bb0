// Owns Harbor's list paging: page/page_size validation (go-swagger's 422), X-Total-Count, and the
// Link header exactly as Harbor's BaseAPI.Links builds it.

export interface Page {
  page: number;
  pageSize: number;
}

export type PageResult = Page | { error: string };

const MAX_PAGE_SIZE = 100;
const DEFAULT_PAGE_SIZE = 10;

function integer(raw: string | null, name: string): number | string | undefined {
  if (raw === null || raw === '') return undefined;
  return /^-?\d+$/.test(raw) ? Number(raw) : `${name} in query must be of type int64: "${raw}"`;
}

/** Errors are worded like go-swagger's validation failures, which Harbor returns as 422. */
export function parsePage(params: URLSearchParams): PageResult {
  const page = integer(params.get('page'), 'page') ?? 1;
  const pageSize = integer(params.get('page_size'), 'page_size') ?? DEFAULT_PAGE_SIZE;
  const problems: string[] = [];
  if (typeof page === 'string') problems.push(page);
  else if (page < 1) problems.push('page in query should be greater than or equal to 1');
  if (typeof pageSize === 'string') problems.push(pageSize);
  else if (pageSize > MAX_PAGE_SIZE)
    problems.push(`page_size in query should be less than or equal to ${MAX_PAGE_SIZE}`);
  else if (pageSize < 0) problems.push('page_size in query should be greater than or equal to 0');
  if (problems.length > 0) return { error: `validation failure list:\n${problems.join('\n')}` };
  return { page: page as number, pageSize: pageSize as number };
}

export function slicePage<T>(items: T[], p: Page): T[] {
  // Harbor treats page_size=0 as "no paging".
  if (p.pageSize === 0) return items;
  return items.slice((p.page - 1) * p.pageSize, p.page * p.pageSize);
}

/**
 * Harbor rebuilds the request URL (path as received, so double-encoded names stay so) with page
 * and page_size set, keys sorted as Go's url.Values.Encode does, then unescapes the query.
 */
function linkUrl(rawPath: string, params: URLSearchParams, page: number, pageSize: number): string {
  const values = new Map<string, string[]>();
  for (const [k, v] of params) values.set(k, [...(values.get(k) ?? []), v]);
  values.set('page', [String(page)]);
  values.set('page_size', [String(pageSize)]);
  const query = [...values.keys()]
    .sort()
    .flatMap((k) => values.get(k)!.map((v) => `${k}=${v}`))
    .join('&');
  return `${rawPath}?${query}`;
}

export function pagingHeaders(
  rawPath: string,
  params: URLSearchParams,
  total: number,
  p: Page,
): Record<string, string> {
  const headers: Record<string, string> = { 'x-total-count': String(total) };
  if (p.pageSize === 0) return headers;
  const links: string[] = [];
  if (p.page > 1 && (p.page - 1) * p.pageSize < total) {
    links.push(`<${linkUrl(rawPath, params, p.page - 1, p.pageSize)}>; rel="prev"`);
  }
  if (p.pageSize * p.page < total) {
    links.push(`<${linkUrl(rawPath, params, p.page + 1, p.pageSize)}>; rel="next"`);
  }
  if (links.length > 0) headers.link = links.join(' , ');
  return headers;
}
