// The destinations a deployment writes to, each known by its registry host: the default one (the keys without
// prefix), other SWR regions of the default account that NamespaceMap names (`cn-south-1/ns`), and the ones
// declared in Destinations, each with its own keys under its name (`dr_RegionName`, `dr_HWAK`, ...). Also where
// each mapped project goes: NamespaceMap's targets resolved to (destination host, namespace).
import { accountKeyProblems, hasAccountKeys } from '../swr/account-keys.js';
import type { HuaweiAccount } from '../swr/destination.js';
import { DESTINATION_KEYS, type DestinationKeys } from './keys.js';
import type { ValueOf } from './kinds.js';
import type { NamespaceTarget } from './namespace-map.js';
import { keyReader, type Raw } from './read-keys.js';
import { iamHost, isKnownRegion, regionEndpoint, SWR_REGIONS, swrApiHost, swrRegistryHost } from './regions.js';

export interface DestinationSwr {
  registry: string;
  /** SWRRegistry was set: then the region does not choose the registry. */
  explicit: boolean;
  protocol: 'http' | 'https';
  user?: string;
  password?: string;
  skipTlsVerify: boolean;
  caCertificate?: string;
  apiEndpoint: string;
  iamEndpoint: string;
  manageNamespaces: boolean;
}

export interface DestinationConfig {
  /** How app.conf names it: `default`, a region (`cn-south-1`), or a name declared in Destinations (`dr`). */
  name: string;
  /** The registry host: the destination's identity in job specs, job keys, pacing and logs. */
  host: string;
  hw: HuaweiAccount;
  swr: DestinationSwr;
  requestsPerSecond: number;
}

/** One place a mapped project is written to. */
export interface MappedTarget {
  /** The destination's registry host (DestinationConfig.host). */
  destination: string;
  namespace: string;
}

/** How app.conf spells this destination's keys: `dr_` for a named one; none for the default or another region. */
export function keyPrefix(dest: Pick<DestinationConfig, 'name'>): string {
  return dest.name === 'default' || dest.name.includes('-') ? '' : `${dest.name}_`;
}

/** The destination keys as read under one prefix: each key's value, and whether app.conf gives it at all. */
interface DestinationKeyReader {
  get: <K extends keyof DestinationKeys>(key: K) => ValueOf<DestinationKeys[K]>;
  given: (key: keyof DestinationKeys) => boolean;
}

/** A destination from its keys: the default's (prefix '') or a named one's (prefix `dr_`). */
export function readDestination(
  name: string,
  { get, given }: DestinationKeyReader,
  prefix: string,
  problems: string[],
): DestinationConfig {
  const authMethod = get('HWAuthMethod');
  const account = { authMethod: authMethod ?? 'AKSK', ak: get('HWAK'), sk: get('HWSK') } as const;
  const keys = { ...account, domain: get('HWDomain'), password: get('HWPassword') };
  const ownLogin = Boolean(get('SWRUser'));
  if (authMethod) problems.push(...accountKeyProblems(keys, ownLogin, prefix));
  // Missing (an invalid value has had its own problem from the reader): required unless SWRUser gives a login.
  else if (!ownLogin && !given('HWAuthMethod')) {
    const k = (key: string) => `${prefix}${key}`;
    problems.push(
      `${k('HWAuthMethod')} is missing: set AKSK (with ${k('HWAK')} and ${k('HWSK')}) or Password (with ${k('HWDomain')}, ${k('HWUser')} and ${k('HWPassword')}), or give ${k('SWRUser')}/${k('SWRPassword')}, a registry login of their own`,
    );
  }
  const region = get('RegionName');
  const knownRegion = region && isKnownRegion(region) ? region : undefined;
  const explicitRegistry = get('SWRRegistry');
  return {
    name,
    host: explicitRegistry ?? (knownRegion ? swrRegistryHost(knownRegion) : ''),
    hw: { ...keys, user: get('HWUser'), region: region ?? '', ...(prefix ? { keyPrefix: prefix } : {}) },
    swr: {
      registry: explicitRegistry ?? (knownRegion ? swrRegistryHost(knownRegion) : ''),
      explicit: Boolean(explicitRegistry),
      protocol: get('SWRProtocol'),
      user: get('SWRUser'),
      password: get('SWRPassword'),
      skipTlsVerify: get('SWRInsecure'),
      caCertificate: get('SWRCACert'),
      apiEndpoint: get('SWRApiEndpoint') ?? (knownRegion ? `https://${swrApiHost(knownRegion)}` : ''),
      iamEndpoint: get('IAMEndpoint') ?? (knownRegion ? `https://${iamHost(knownRegion)}` : ''),
      manageNamespaces: get('SWRManageNamespaces'),
    },
    requestsPerSecond: get('SWRRequestsPerSecond'),
  };
}

/** The default account's SWR in another region, as `cn-south-1/ns` in NamespaceMap names it. */
function regionDestination(base: DestinationConfig, region: string): DestinationConfig {
  const host = swrRegistryHost(region);
  return {
    name: region,
    host,
    hw: { ...base.hw, region },
    swr: {
      ...base.swr,
      registry: host,
      // The default's registry login (SWRUser) is that registry's: another region's login comes from the keys.
      user: undefined,
      password: undefined,
      apiEndpoint: regionEndpoint(base.swr.apiEndpoint, swrApiHost, base.hw.region, region),
      iamEndpoint: regionEndpoint(base.swr.iamEndpoint, iamHost, base.hw.region, region),
    },
    // SWR's limit is per region and tenant: the same rate again, on a budget of its own (pacing is per host).
    requestsPerSecond: base.requestsPerSecond,
  };
}

/**
 * Every destination (the default first) and every project's targets. Each problem quotes the NamespaceMap
 * target or the key at fault and says what to write instead.
 */
export function resolveDestinations(
  raw: Raw,
  base: DestinationConfig,
  names: string[],
  namespaceMap: Map<string, NamespaceTarget[]>,
  problems: string[],
): { destinations: DestinationConfig[]; targets: Map<string, MappedTarget[]> } {
  const destinations = [base];
  const named = new Map<string, DestinationConfig | undefined>();
  for (const name of names) {
    const destination = readDestination(
      name,
      keyReader(DESTINATION_KEYS, raw, problems, `${name}_`),
      `${name}_`,
      problems,
    );
    const same = destinations.find((d) => d.host !== '' && d.host === destination.host);
    if (same) {
      // Its targets are then left out without a word more: this problem is the one to fix.
      named.set(name, undefined);
      problems.push(
        `destination ${name} writes to ${destination.host}, as the ${same.name === 'default' ? 'default destination' : `destination ${same.name}`} does: give it another ${name}_RegionName or ${name}_SWRRegistry, or map the projects to namespaces of one destination`,
      );
    } else {
      destinations.push(destination);
      named.set(name, destination);
    }
  }
  const targets = new Map<string, MappedTarget[]>();
  for (const [project, written] of namespaceMap) {
    const resolved: MappedTarget[] = [];
    for (const target of written) {
      const destination = targetDestination(target, project, base, names, named, destinations, problems);
      if (!destination) continue;
      if (resolved.some((t) => t.destination === destination.host && t.namespace === target.namespace)) {
        problems.push(`NamespaceMap maps project ${project} to ${target.text} twice`);
        continue;
      }
      resolved.push({ destination: destination.host, namespace: target.namespace });
    }
    targets.set(project, resolved);
  }
  return { destinations, targets };
}

/** The destination a NamespaceMap target names (a region's is added to `destinations` when first named). */
function targetDestination(
  target: NamespaceTarget,
  project: string,
  base: DestinationConfig,
  names: string[],
  named: Map<string, DestinationConfig | undefined>,
  destinations: DestinationConfig[],
  problems: string[],
): DestinationConfig | undefined {
  const where = target.where;
  if (where === undefined || where === base.hw.region) return base;
  if (named.has(where)) return named.get(where);
  if (!where.includes('-')) {
    problems.push(
      `NamespaceMap: "${target.text}" (for project ${project}) names destination ${where}, which Destinations ${names.length > 0 ? `(${names.join(', ')}) does not declare` : 'is not set to declare'}: add it there with its keys (${where}_RegionName, ${where}_HWAK, ...), or write a region SWR serves`,
    );
    return undefined;
  }
  if (!isKnownRegion(where)) {
    problems.push(
      `NamespaceMap: "${target.text}" (for project ${project}) names region "${where}", which is not a region SWR serves; use one of ${SWR_REGIONS.join(', ')}, or a destination declared in Destinations`,
    );
    return undefined;
  }
  if (base.swr.explicit) {
    problems.push(
      `NamespaceMap: "${target.text}" (for project ${project}) names region ${where}, but SWRRegistry sets the default destination's registry explicitly, so no other region's registry follows from it: declare the other destination in Destinations (e.g. Destinations=dr with dr_SWRRegistry, dr_RegionName, dr_HWAK, ...) and write dr/${target.namespace}`,
    );
    return undefined;
  }
  const existing = destinations.find((d) => d.name === where);
  if (existing) return existing;
  if (!hasAccountKeys(base.hw)) {
    problems.push(
      `NamespaceMap: "${target.text}" (for project ${project}) names region ${where}, whose SWR login is derived from the account's keys: set ${base.hw.authMethod === 'AKSK' ? 'HWAK and HWSK' : 'HWDomain and HWPassword'}`,
    );
    return undefined;
  }
  const destination = regionDestination(base, where);
  const same = destinations.find((d) => d.host === destination.host);
  if (same) return same;
  destinations.push(destination);
  return destination;
}
