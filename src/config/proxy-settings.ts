// Owns where the proxy settings come from: the keys Proxy and NoProxy, else the environment's HTTPS_PROXY,
// HTTP_PROXY and NO_PROXY (upper case first, then lower case, as Go's programs read them: skopeo, Harbor).
// The decision itself (which URL goes through which proxy) is oci/proxy.ts's.
import { ProxyRoutes, type ProxySource } from '../oci/index.js';
import { rawText, type Raw } from './read-keys.js';

function firstSet(raw: Raw, names: string[]): { text: string; from: string } | undefined {
  for (const name of names) {
    const text = rawText(raw, name);
    if (text !== undefined) return { text, from: name };
  }
  return undefined;
}

function source(found: { text: string; from: string } | undefined): ProxySource | undefined {
  return found && { url: found.text, from: found.from };
}

/** `Proxy` serves http:// and https:// endpoints alike and replaces both variables; `NoProxy` replaces NO_PROXY. */
export function proxyRoutes(raw: Raw, problems: string[]): ProxyRoutes {
  const proxy = firstSet(raw, ['Proxy']);
  const routes = new ProxyRoutes({
    https: source(proxy ?? firstSet(raw, ['HTTPS_PROXY', 'https_proxy'])),
    http: source(proxy ?? firstSet(raw, ['HTTP_PROXY', 'http_proxy'])),
    noProxy: firstSet(raw, ['NoProxy', 'NO_PROXY', 'no_proxy']),
  });
  problems.push(...routes.problems);
  return routes;
}
