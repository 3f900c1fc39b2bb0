// Builds the context a sync runs with (source, destination, namespaces, logs): from the configuration, or from
// credentials a manual call brought. The clients themselves are made in clients.ts.
import type { Config } from '../config/config.js';
import { iamHost, isKnownRegion, swrApiHost, swrRegistryHost } from '../config/regions.js';
import type { CopyEngine } from '../copy/index.js';
import type { HarborInfo } from '../harbor/detect.js';
import type { Logs } from '../logging/logs.js';
import { peerText, type CredentialSource, type InvalidNameHandler, type RequestPacer } from '../oci/index.js';
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
    apiEndpoint: endpointForRegion(config.swr.apiEndpoint, swrApiHost, config.hw.region, region),
    iamEndpoint: endpointForRegion(config.swr.iamEndpoint, iamHost, config.hw.region, region),
    manageNamespaces: config.swr.manageNamespaces,
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

/**
 * The SWR API or IAM endpoint for a call's region: the region's own host while the configured endpoint is the
 * configured region's default (a manual call's RegionName must not check namespaces in another region), the
 * configured one when SWRApiEndpoint/IAMEndpoint name another host (a proxy, a test double).
 */
function endpointForRegion(
  configured: string,
  hostOf: (region: string) => string,
  configuredRegion: string,
  region: string,
): string {
  const isDefault = configured.replace(/\/$/, '') === `https://${hostOf(configuredRegion)}`;
  return isDefault && isKnownRegion(region) ? `https://${hostOf(region)}` : configured;
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
  const { observer } = hooks;
  // A listed name that breaks the grammar is left out of the sync; say so, escaped, rather than drop it silently.
  const onInvalidName: InvalidNameHandler = (kind, name, host) =>
    logs.service.warn(`${host} listed ${kind} "${peerText(name, 200)}", which is not a valid ${kind} name: left out`);
  const { harbor, source } = buildSource(config, {
    user: credentials.harbor.user,
    password: credentials.harbor.password,
    observer,
    pacer: hooks.pacer?.(config.harbor.address, config.engine.harborRequestsPerSecond),
    known: hooks.known?.(),
    log: hooks.log,
    onInvalidName,
  });
  const destination = destinationClient(config, credentials.registry, credentials.destination, {
    push: true,
    pacer: hooks.pacer?.(credentials.registry, config.engine.requestsPerSecond),
    observer,
    onInvalidName,
  });
  // Management calls count against the same SWR tenant budget as registry calls: one pacing for both.
  credentials.management?.pacedBy(destination.transport.limiter, observer);
  return {
    engine,
    harbor,
    source,
    destination,
    overwrite,
    filters: config.filters,
    listing: credentials.management
      ? new SwrListing(credentials.management, (message) => logs.service.warn(message))
      : undefined,
    logs: (project) => logs.project(project),
    written: hooks.written,
    deletesInSweep: config.deletes.inSweep,
    deleteTag: credentials.management
      ? (namespace, repository, tag) => credentials.management!.deleteTag(namespace, repository, tag)
      : undefined,
    prepare: credentials.namespaces ? (namespace) => credentials.namespaces!.ensureNamespace(namespace) : undefined,
    async close(force = false) {
      await Promise.all([harbor.close(force), source.close(force), destination.close(force)]);
    },
  };
}
