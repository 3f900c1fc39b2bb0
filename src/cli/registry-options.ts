// Turns command-line registry settings (host, --insecure-*, --*-creds or *_CREDS) into RegistryClients, and
// checks that what names a registry is one before anything is sent.
import { proxyRoutes } from '../config/proxy-settings.js';
import { parseHostList, RegistryClient, type Credentials, type ProxyRoutes } from '../oci/index.js';
import { UsageError } from './usage-error.js';

export type Side = 'src' | 'dst';

export interface SideOptions {
  insecure?: boolean;
  creds?: string;
}

/** The flag and the environment variable of each side, as the user types them. */
const NAMES: Record<Side, { insecure: string; creds: string; env: string; argument: string }> = {
  src: { insecure: '--insecure-src', creds: '--src-creds', env: 'SRC_CREDS', argument: 'SRC' },
  dst: { insecure: '--insecure-dst', creds: '--dst-creds', env: 'DST_CREDS', argument: 'DST' },
};

/**
 * A mistyped host costs one retry, not five: the user is waiting at the terminal, and a name that does not
 * resolve now rarely does a second later.
 */
const CLI_RETRY = { unresolvedHostRetries: 1 };

/** `user:password`; the password may itself contain colons. Taken from the environment when not given. */
export function parseCredentials(value: string | undefined, what: string): Credentials | undefined {
  if (value === undefined || value === '') return undefined;
  const colon = value.indexOf(':');
  if (colon <= 0) throw new UsageError(`${what} must be USER:PASSWORD`);
  return { username: value.slice(0, colon), password: value.slice(colon + 1) };
}

/**
 * Refuses an argument that cannot start with a registry host, before any network call: a scheme (the protocol
 * is a flag here), or a first part that is no host (`library/app:1.0`, `nginx`), which would otherwise be looked
 * up in DNS. A host is what Docker takes for one: it has a dot or a port, or is localhost. `hostAlone`: the
 * host may stand alone (copy-prefix's REGISTRY[/PREFIX]).
 */
export function checkRegistryArgument(text: string, side: Side, hostAlone = false): void {
  const { argument, insecure } = NAMES[side];
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text);
  if (scheme)
    throw new UsageError(
      `${argument} "${text}" starts with ${scheme[0]}: drop the scheme (${text.slice(scheme[0].length)}); ` +
        `HTTPS is the default, and ${insecure} talks plain HTTP to that registry`,
    );
  const slash = text.indexOf('/');
  const first = slash < 0 ? text : text.slice(0, slash);
  const isHost = first.includes('.') || first.includes(':') || first === 'localhost';
  const why =
    slash < 0 && !hostAlone
      ? `"${text}" has no registry host before a "/"`
      : !isHost
        ? `"${first}" in "${text}" is no host name (a host has a dot or a :port, or is localhost)`
        : undefined;
  if (why) throw new UsageError(`${argument} must start with a registry host (registry.example.com/${text}): ${why}`);
}

export function clientFor(
  host: string,
  options: SideOptions,
  side: Side,
  push: boolean,
  requestsPerSecond: number,
): RegistryClient {
  const names = NAMES[side];
  return new RegistryClient({
    host,
    insecure: options.insecure,
    credentials: parseCredentials(options.creds ?? process.env[names.env], options.creds ? names.creds : names.env),
    push,
    requestsPerSecond,
    tokenRealmHosts: tokenRealmHostsFromEnv(),
    proxies: proxiesFromEnv(),
    retry: CLI_RETRY,
    protocolSetting: { toHttp: `add ${names.insecure}`, toHttps: `leave out ${names.insecure}` },
  });
}

/** TokenRealmHosts from the environment, as the service reads it from its configuration. */
export function tokenRealmHostsFromEnv(): string[] {
  const { hosts, problems } = parseHostList(process.env.TokenRealmHosts);
  if (problems.length > 0)
    throw new UsageError(
      `TokenRealmHosts: ${problems.join('; ')}; write host or host:port entries separated by commas`,
    );
  return hosts;
}

/** Proxy and NoProxy, else HTTPS_PROXY, HTTP_PROXY and NO_PROXY, from the environment, as the service reads them. */
export function proxiesFromEnv(): ProxyRoutes {
  const problems: string[] = [];
  const routes = proxyRoutes(process.env, problems);
  if (problems.length > 0) throw new UsageError(problems.join('; '));
  return routes;
}
