// Owns NO_PROXY: which hosts are reached directly. Our own matcher rather than undici's EnvHttpProxyAgent's,
// which knows no CIDRs. Entries read as Go's net/http reads them (skopeo, Harbor's replication), so one NO_PROXY
// means the same to them and to this service: `*`; a name (itself and every subdomain); `.name` or `*.name`
// (subdomains only); an IP; a CIDR; any of these but `*` and CIDRs with `:port` for that port only.
// Unlike Go, localhost and loopback are not exempt by themselves: list them when they must be.
import { BlockList, isIP } from 'node:net';
import { originOf } from './origin.js';

interface Rule {
  /** What the user wrote, for messages. */
  entry: string;
  matches(hostname: string, port: number): boolean;
}

const NAME = /^(?:\*\.|\.)?[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?$/;

/** A URL's host as compared here: lower case, without IPv6 brackets or a trailing dot. */
function bareHost(hostname: string): string {
  return hostname
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '');
}

/** `host`, `port` of an entry: `[v6]:port`, `v4:port`, `name:port`; a bare IPv6 has colons and no port. */
function splitPort(entry: string): { host: string; port?: string } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return { host: bracketed[1], port: bracketed[2] };
  if (isIP(entry) === 6) return { host: entry };
  const colon = entry.lastIndexOf(':');
  if (colon > 0 && entry.indexOf(':') === colon && !entry.includes('/'))
    return { host: entry.slice(0, colon), port: entry.slice(colon + 1) };
  return { host: entry };
}

function cidrRule(entry: string): Rule | string {
  const [address, bits] = entry.split('/');
  const family = isIP(address);
  const max = family === 6 ? 128 : 32;
  if (family === 0 || !/^\d{1,3}$/.test(bits) || Number(bits) > max)
    return `"${entry}" is not a CIDR range (an IPv4 or IPv6 address, "/", then 0 to ${family === 6 ? 128 : 32})`;
  const list = new BlockList();
  const type = family === 6 ? 'ipv6' : 'ipv4';
  list.addSubnet(address, Number(bits), type);
  return {
    entry,
    matches: (hostname) => {
      const ip = isIP(hostname);
      return ip !== 0 && list.check(hostname, ip === 6 ? 'ipv6' : 'ipv4');
    },
  };
}

function hostRule(entry: string): Rule | string {
  const { host, port } = splitPort(entry);
  if (port !== undefined && !(/^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535))
    return `"${entry}" has a port outside 1-65535`;
  const wanted = port === undefined ? undefined : Number(port);
  const portOk = (p: number) => wanted === undefined || wanted === p;
  if (isIP(host)) {
    const ip = bareHost(host);
    return { entry, matches: (hostname, p) => hostname === ip && portOk(p) };
  }
  if (!NAME.test(host))
    return `"${entry}" is not a host name, domain (.example.com), IP, CIDR (10.0.0.0/8) or "*", with an optional :port`;
  const subdomainsOnly = host.startsWith('.') || host.startsWith('*.');
  const name = bareHost(host.replace(/^\*?\./, ''));
  return {
    entry,
    matches: (hostname, p) => portOk(p) && (hostname.endsWith(`.${name}`) || (!subdomainsOnly && hostname === name)),
  };
}

function ruleOf(entry: string): Rule | string {
  if (entry === '*') return { entry, matches: () => true };
  if (entry.includes('://')) return `"${entry}" has a scheme: write the host alone (${entry.replace(/^.*:\/\//, '')})`;
  return entry.includes('/') ? cidrRule(entry) : hostRule(entry);
}

/** A NO_PROXY list: entries separated by commas or spaces. */
export class NoProxyList {
  private constructor(
    private readonly rules: Rule[],
    /** Why each entry that is not understood was left out. */
    readonly problems: string[],
  ) {}

  static parse(text: string | undefined): NoProxyList {
    const rules: Rule[] = [];
    const problems: string[] = [];
    for (const entry of (text ?? '').split(/[\s,]+/).filter(Boolean)) {
      const rule = ruleOf(entry);
      if (typeof rule === 'string') problems.push(rule);
      else rules.push(rule);
    }
    return new NoProxyList(rules, problems);
  }

  get empty(): boolean {
    return this.rules.length === 0;
  }

  /** The entry that sends `url` direct, or undefined when none does. */
  match(url: URL): string | undefined {
    const hostname = bareHost(url.hostname);
    const port = Number(originOf(url).split(':').pop());
    return this.rules.find((rule) => rule.matches(hostname, port))?.entry;
  }
}
