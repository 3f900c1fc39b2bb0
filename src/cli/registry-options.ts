// Turns command-line registry settings (host, --insecure-*, --*-creds or *_CREDS) into RegistryClients.
import { parseHostList, RegistryClient, type Credentials } from '../oci/index.js';
import { UsageError } from './usage-error.js';

export interface SideOptions {
  insecure?: boolean;
  creds?: string;
}

/** `user:password`; the password may itself contain colons. Taken from the environment when not given. */
export function parseCredentials(value: string | undefined, what: string): Credentials | undefined {
  if (value === undefined || value === '') return undefined;
  const colon = value.indexOf(':');
  if (colon <= 0) throw new UsageError(`${what} must be USER:PASSWORD`);
  return { username: value.slice(0, colon), password: value.slice(colon + 1) };
}

export function clientFor(
  host: string,
  side: SideOptions,
  envName: string,
  push: boolean,
  requestsPerSecond: number,
): RegistryClient {
  return new RegistryClient({
    host,
    insecure: side.insecure,
    credentials: parseCredentials(
      side.creds ?? process.env[envName],
      side.creds ? `--${envName === 'SRC_CREDS' ? 'src' : 'dst'}-creds` : envName,
    ),
    push,
    requestsPerSecond,
    tokenRealmHosts: tokenRealmHostsFromEnv(),
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
