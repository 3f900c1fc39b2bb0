// Origins and host lists: the one comparison behind every decision to attach a registry's credentials
// (redirects, upload Locations, paging links, token realms), so `Harbor.Example.com` and `host:443` match too.

/** `scheme://hostname:port`, host lower-cased and the scheme's default port written out. */
export function originOf(url: URL): string {
  const port = url.port || (url.protocol === 'https:' ? '443' : url.protocol === 'http:' ? '80' : '');
  return `${url.protocol}//${url.hostname.toLowerCase()}:${port}`;
}

export function sameOrigin(a: URL, b: URL): boolean {
  return originOf(a) === originOf(b);
}

const HOST_ENTRY = /^([A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?$/;

/** Why `entry` is not `host` or `host:port`, or undefined when it is one. */
export function hostEntryProblem(entry: string): string | undefined {
  const match = HOST_ENTRY.exec(entry);
  if (!match) return `"${entry}" is not a host name or IP with an optional :port (no scheme, path or spaces)`;
  if (match[2] !== undefined && (Number(match[2]) < 1 || Number(match[2]) > 65535))
    return `"${entry}" has a port outside 1-65535`;
  return undefined;
}

/** Whether `url` is on `entry`: a bare `host` matches any port, `host:port` only that port (default ports filled in). */
export function hostEntryMatches(entry: string, url: URL): boolean {
  const match = HOST_ENTRY.exec(entry.trim());
  if (!match) return false;
  if (match[1].toLowerCase() !== url.hostname.toLowerCase()) return false;
  if (match[2] === undefined) return true;
  return originOf(url).endsWith(`:${Number(match[2])}`);
}

/** Parses a comma-separated `host[:port]` list (TokenRealmHosts); problems name each bad entry. */
export function parseHostList(text: string | undefined): { hosts: string[]; problems: string[] } {
  const hosts: string[] = [];
  const problems: string[] = [];
  for (const entry of (text ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const problem = hostEntryProblem(entry);
    if (problem) problems.push(problem);
    else hosts.push(entry);
  }
  return { hosts, problems };
}
