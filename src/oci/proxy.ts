// Owns the proxy decision: given a URL, which proxy (or none) its connection goes through. The caller gives the
// proxies by scheme and the NO_PROXY list, each with where it came from (a key, an environment variable), so the
// decision can be explained; this module knows nothing of configuration. A proxy URL's credentials are secrets:
// `shownProxy` is the only form of it that goes into messages.
import { NoProxyList } from './no-proxy.js';

export interface ProxySource {
  /** The proxy URL as written (`http://user:pass@proxy:3128`, or `proxy:3128`, read as http). */
  url: string;
  /** Where it was set, for messages: `Proxy`, `HTTPS_PROXY`, ... */
  from: string;
}

export interface ProxySettings {
  /** For https:// endpoints. */
  https?: ProxySource;
  /** For http:// endpoints. */
  http?: ProxySource;
  /** NO_PROXY's text and where it was set. */
  noProxy?: { text: string; from: string };
}

export interface ProxyRoute {
  /** The proxy to tunnel through (credentials included: never print it, print `shownProxy(proxy)`). */
  proxy?: URL;
  /** Why: `through http://proxy:3128 (HTTPS_PROXY)`, `direct (NoProxy has .corp.example)`, `direct (no proxy set)`. */
  reason: string;
}

/** The proxy URL without its credentials: what messages may show. */
export function shownProxy(proxy: URL): string {
  return `${proxy.protocol}//${proxy.host}`;
}

/** The proxy URL read, or why it cannot be: a URL without credentials in the message. */
export function parseProxyUrl(text: string): URL | string {
  let url: URL;
  try {
    url = new URL(/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(text) ? text : `http://${text}`);
  } catch {
    return 'is not a URL like http://proxy.example.com:3128 (with user:password@ before the host if it asks for them)';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return `uses ${url.protocol.slice(0, -1)}; only http:// and https:// proxies are supported`;
  if (!url.hostname) return 'has no host';
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash)
    return `must be only scheme, host and port (found a path or query after ${shownProxy(url)})`;
  return url;
}

/** The values to scrub from logs: the password as written and decoded, and the Basic credentials built of it. */
export function proxySecrets(proxy: URL | undefined): string[] {
  if (!proxy?.password) return [];
  const user = decodeURIComponent(proxy.username);
  const password = decodeURIComponent(proxy.password);
  return [proxy.password, password, Buffer.from(`${user}:${password}`).toString('base64')];
}

export class ProxyRoutes {
  private readonly proxies: { https?: URL; http?: URL };
  private readonly noProxy: NoProxyList;
  /** Problems with the settings (a URL that does not parse, a NO_PROXY entry not understood), named by source. */
  readonly problems: string[] = [];

  constructor(private readonly settings: ProxySettings = {}) {
    this.proxies = { https: this.read(settings.https), http: this.read(settings.http) };
    this.noProxy = NoProxyList.parse(settings.noProxy?.text);
    for (const problem of this.noProxy.problems) this.problems.push(`${settings.noProxy!.from}: ${problem}`);
  }

  /** Whether any connection can go through a proxy. */
  get any(): boolean {
    return Boolean(this.proxies.https ?? this.proxies.http);
  }

  /** The proxies in use, each once: their secrets go to the redactor. */
  get all(): URL[] {
    const { https, http } = this.proxies;
    return [https, http].filter(
      (p, i, all): p is URL => p !== undefined && all.findIndex((q) => q?.href === p.href) === i,
    );
  }

  /** Every proxy password in every form it may be seen in, for the redactor. */
  get secrets(): string[] {
    return this.all.flatMap(proxySecrets);
  }

  route(target: URL | string): ProxyRoute {
    const url = typeof target === 'string' ? new URL(target) : target;
    const scheme = url.protocol === 'https:' ? 'https' : 'http';
    const proxy = this.proxies[scheme];
    if (!proxy) return { reason: 'direct (no proxy set)' };
    const entry = this.noProxy.match(url);
    if (entry !== undefined) return { reason: `direct (${this.settings.noProxy!.from} has ${entry})` };
    return { proxy, reason: `through ${shownProxy(proxy)} (${this.settings[scheme]!.from})` };
  }

  /** The proxy for `target`, or undefined to connect directly. */
  proxyFor(target: URL | string): URL | undefined {
    return this.route(target).proxy;
  }

  /** What JSON (a log field, an answer) may show: the proxies without their credentials. */
  toJSON(): Record<string, string | undefined> {
    const { https, http } = this.proxies;
    return {
      https: https && shownProxy(https),
      http: http && shownProxy(http),
      noProxy: this.settings.noProxy?.text,
    };
  }

  private read(source: ProxySource | undefined): URL | undefined {
    if (!source?.url.trim()) return undefined;
    const url = parseProxyUrl(source.url.trim());
    if (typeof url !== 'string') return url;
    this.problems.push(`${source.from} ${url}`);
    return undefined;
  }
}

/** No proxy: every connection direct. */
export const DIRECT = new ProxyRoutes();
