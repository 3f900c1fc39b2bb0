// Builds the context a sync runs with (source, destination, namespaces, logs): from the configuration, or from
// credentials a manual call brought. The clients themselves are made in clients.ts.
import type { Config, DestinationConfig } from '../config/config.js';
import { iamHost, regionEndpoint, swrApiHost, swrRegistryHost } from '../config/regions.js';
import type { CopyEngine } from '../copy/index.js';
import type { HarborInfo } from '../harbor/detect.js';
import type { Logs } from '../logging/logs.js';
import {
  peerText,
  type CredentialSource,
  type InvalidNameHandler,
  type ProxyRoutes,
  type RequestPacer,
} from '../oci/index.js';
import { buildSource, destinationClient, type HarborCredentials } from './clients.js';
import type { TransportObserver } from '../oci/transport.js';
import { swrDestination, type DestinationSettings, type HuaweiAccount } from '../swr/destination.js';
import type { NamespaceGuard } from '../swr/namespaces.js';
import { SwrListing } from '../swr/listing.js';
import type { SwrManagementClient } from '../swr/management.js';
import type { SyncContext } from '../sync/context.js';
import type { WrittenTags } from '../jobs/written-tags.js';

export interface ContextCredentials {
  harbor: HarborCredentials;
  destination: CredentialSource;
  /** Destination registry host (SWRRegistry, or the region's SWR host). */
  registry: string;
  /** Namespace management, unless SWRManageNamespaces=false. */
  namespaces?: NamespaceGuard;
  /** SWR's management API when it is in use (SWRManageNamespaces): the destination's tags are listed there. */
  management?: SwrManagementClient;
}

export function destinationSettings(config: Config, region = config.hw.region): DestinationSettings {
  return {
    registry: registryForRegion(config, region),
    login: config.swr.user ? { username: config.swr.user, password: config.swr.password ?? '' } : undefined,
    apiEndpoint: regionEndpoint(config.swr.apiEndpoint, swrApiHost, config.hw.region, region),
    iamEndpoint: regionEndpoint(config.swr.iamEndpoint, iamHost, config.hw.region, region),
    manageNamespaces: config.swr.manageNamespaces,
    proxies: config.proxy,
  };
}

export function credentialsFor(
  config: Config,
  account: HuaweiAccount,
  harbor: HarborCredentials,
): ContextCredentials & { secrets: string[] } {
  const destination = swrDestination(account, destinationSettings(config, account.region));
  return {
    harbor,
    destination: destination.credentials,
    registry: destination.registry,
    namespaces: destination.namespaces,
    management: destination.namespaces ? destination.management : undefined,
    secrets: destination.secrets,
  };
}

export function configuredCredentials(config: Config): ContextCredentials & { secrets: string[] } {
  return credentialsFor(config, config.hw, { user: config.harbor.user, password: config.harbor.password });
}

/** The destination for a region given in a manual call; an explicit SWRRegistry always wins (tests, other registries). */
export function registryForRegion(config: Config, region: string): string {
  return config.swr.explicit ? config.swr.registry : swrRegistryHost(region);
}

/** What the service gives every registry client it makes, beyond the configuration. */
export interface ClientHooks {
  /** Told of every request (metrics, readiness). */
  observer?: TransportObserver;
  /** Pacing shared with other replicas for a host, when there are any; else each client paces itself. */
  pacer?: (host: string, requestsPerSecond: number) => RequestPacer | undefined;
  /** Where the source reports the Harbor API it chose and names it refused (the service log). */
  log?: { info(message: string): void; warn(message: string): void };
  /** What the service already learnt about Harbor's API, for contexts made later (manual calls). */
  known?: () => HarborInfo | undefined;
  /** The record of tags the service wrote (the backend's), for the contexts' syncs to add to. */
  written?: WrittenTags;
}

export function buildContext(
  config: Config,
  engine: CopyEngine,
  logs: Logs,
  credentials: ContextCredentials,
  overwrite: boolean,
  hooks: ClientHooks = {},
): SyncContext & { close(force?: boolean): Promise<void> } {
  const onInvalidName = invalidNames(logs);
  const { harbor, source } = buildSource(config, {
    user: credentials.harbor.user,
    password: credentials.harbor.password,
    observer: hooks.observer,
    pacer: hooks.pacer?.(config.harbor.address, config.engine.harborRequestsPerSecond),
    known: hooks.known?.(),
    log: hooks.log,
    onInvalidName,
  });
  const side = destinationSide(config, logs, credentials, hooks);
  return {
    engine,
    harbor,
    source,
    ...side,
    overwrite,
    filters: config.filters,
    logs: (project) => logs.project(project),
    written: hooks.written,
    deletesOnEvents: config.deletes.onEvents,
    deletesInSweep: config.deletes.inSweep,
    async close(force = false) {
      await Promise.all([harbor.close(force), source.close(force), side.destination.close(force)]);
    },
  };
}

/** A listed name that breaks the grammar is left out of the sync; say so, escaped, rather than drop it silently. */
function invalidNames(logs: Logs): InvalidNameHandler {
  return (kind, name, host) =>
    logs.service.warn(`${host} listed ${kind} "${peerText(name, 200)}", which is not a valid ${kind} name: left out`);
}

/**
 * The destination half of a context: the registry client written to, SWR's listing and the namespace check.
 * `settings`: whose protocol, TLS and request rate (the default destination's unless given).
 */
function destinationSide(
  config: Config,
  logs: Logs,
  credentials: Omit<ContextCredentials, 'harbor'>,
  hooks: ClientHooks,
  settings?: Pick<DestinationConfig, 'swr' | 'requestsPerSecond' | 'hw'>,
): Pick<SyncContext, 'destination' | 'listing' | 'prepare' | 'deleteTag' | 'keyPrefix'> {
  const requestsPerSecond = settings?.requestsPerSecond ?? config.engine.requestsPerSecond;
  const destination = destinationClient(config, credentials.registry, credentials.destination, {
    push: true,
    // Pacing is per host: each destination (an SWR region and tenant) keeps its own budget.
    pacer: hooks.pacer?.(credentials.registry, requestsPerSecond),
    observer: hooks.observer,
    onInvalidName: invalidNames(logs),
    settings,
  });
  // Management calls count against the same SWR tenant budget as registry calls: one pacing for both.
  credentials.management?.pacedBy(destination.transport.limiter, hooks.observer);
  return {
    destination,
    listing: credentials.management
      ? new SwrListing(credentials.management, (message) => logs.service.warn(message))
      : undefined,
    prepare: credentials.namespaces ? (namespace) => credentials.namespaces!.ensureNamespace(namespace) : undefined,
    deleteTag: credentials.management
      ? (namespace, repository, tag) => credentials.management!.deleteTag(namespace, repository, tag)
      : undefined,
    keyPrefix: settings?.hw.keyPrefix ?? '',
  };
}

/** The credentials of a configured destination (the default one or another), with the secrets they derive. */
export function destinationCredentials(
  dest: DestinationConfig,
  proxies: ProxyRoutes,
): Omit<ContextCredentials, 'harbor'> & {
  secrets: string[];
} {
  const built = swrDestination(dest.hw, {
    registry: dest.host,
    login: dest.swr.user ? { username: dest.swr.user, password: dest.swr.password ?? '' } : undefined,
    apiEndpoint: dest.swr.apiEndpoint,
    iamEndpoint: dest.swr.iamEndpoint,
    manageNamespaces: dest.swr.manageNamespaces,
    proxies,
  });
  return {
    destination: built.credentials,
    registry: built.registry,
    namespaces: built.namespaces,
    management: built.namespaces ? built.management : undefined,
    secrets: built.secrets,
  };
}

/** Every secret the configured destinations hold or derive, for the redactor. */
export function destinationSecrets(config: Config): string[] {
  return config.destinations
    .flatMap((d) => [d.hw.sk, d.hw.password, d.swr.password, ...destinationCredentials(d, config.proxy).secrets])
    .filter((s): s is string => Boolean(s));
}

/** Another destination's context: the same Harbor side as `base`; its own registry client, listing and namespaces. */
export function withDestination(
  base: SyncContext,
  config: Config,
  logs: Logs,
  dest: DestinationConfig,
  hooks: ClientHooks = {},
): SyncContext & { close(force?: boolean): Promise<void> } {
  const side = destinationSide(config, logs, destinationCredentials(dest, config.proxy), hooks, dest);
  return { ...base, ...side, close: (force = false) => side.destination.close(force) };
}
