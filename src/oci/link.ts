// RFC 8288 Link headers, as registries use them to page through tag lists and the catalog.

/** The target of `rel="next"`, resolved against the request URL, if any. */
export function nextLink(value: string | string[] | undefined, base: URL): URL | undefined {
  if (!value) return undefined;
  const text = Array.isArray(value) ? value.join(', ') : value;
  for (const part of text.split(/,(?=\s*<)/)) {
    const match = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
    if (match && /rel="?next"?/i.test(match[2])) return new URL(match[1], base);
  }
  return undefined;
}
