// The TokenRealmHosts key: hosts besides a registry's own to which its credentials may go as its token realm.
import { parseHostList } from '../oci/index.js';

/** `host[:port]` entries separated by commas; each bad entry becomes a problem naming the key. */
export function tokenRealmHosts(text: string | undefined, problems: string[]): string[] {
  const { hosts, problems: bad } = parseHostList(text);
  for (const problem of bad)
    problems.push(
      `TokenRealmHosts: ${problem}; write host or host:port entries separated by commas, e.g. harbor.example.com,auth.example.com:8443`,
    );
  return hosts;
}
