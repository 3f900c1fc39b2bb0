// Where a registry's credentials may go when its challenge names a token realm: the registry's own host on the
// registry's own port (or on https's 443, the host's main site), or a host its operator listed (tokenRealmHosts /
// TokenRealmHosts), and only over https unless the operator chose plain http for this registry. Another port on
// the registry's host is another service; a realm anywhere else is a registry (or a man in the middle) asking for
// the password.
import { RegistryError } from './errors.js';
import { hostEntryMatches, originOf, sameOrigin } from './origin.js';
import { peerText } from './peer-text.js';

export interface RealmPolicy {
  /** The registry's own root, `http(s)://host[:port]/`. */
  registry: URL;
  /** Hosts (`host` or `host:port`) besides the registry's to which its credentials may be sent. */
  allowedHosts: string[];
}

/** The realm as shown in messages: no query (it may carry anything), capped and escaped. */
export function shownRealm(realm: URL): string {
  return peerText(`${realm.protocol}//${realm.host}${realm.pathname}`, 200);
}

/** Undefined when credentials may be sent to `realm`; else the refusal to throw, naming the realm and the key to set. */
export function realmRefusal(realm: URL, policy: RealmPolicy, host: string): RegistryError | undefined {
  const listed = policy.allowedHosts.some((entry) => hostEntryMatches(entry, realm));
  const port = (url: URL) => originOf(url).slice(originOf(url).lastIndexOf(':') + 1);
  const ownHost =
    realm.hostname.toLowerCase() === policy.registry.hostname.toLowerCase() &&
    (port(realm) === port(policy.registry) || (realm.protocol === 'https:' && port(realm) === '443'));
  const refuse = (message: string, hint: string) =>
    new RegistryError({ code: 'TOKEN_REALM_REFUSED', status: 0, host, message, hint });
  if (!ownHost && !listed) {
    return refuse(
      `token realm ${shownRealm(realm)} is not on ${host}: its credentials are not sent there`,
      `if that token service is genuine, add its host${realm.hostname.toLowerCase() === policy.registry.hostname.toLowerCase() ? ':port' : ''} to TokenRealmHosts`,
    );
  }
  if (realm.protocol === 'https:') return undefined;
  // Plain http only where the operator already accepted it: the registry's own origin, or a host listed by name.
  const plainRegistry = policy.registry.protocol === 'http:';
  if (realm.protocol === 'http:' && plainRegistry && (sameOrigin(realm, policy.registry) || listed)) return undefined;
  return refuse(
    `token realm ${shownRealm(realm)} would receive the credentials of ${host} over plain http: they are not sent`,
    plainRegistry
      ? 'serve the token service over https, or, if this plain-http network is trusted, add its host:port to TokenRealmHosts'
      : 'the registry is configured for https but names a plain-http token service; serve it over https',
  );
}
