// The one place that turns the configuration into clients: Harbor's REST client, the source and destination
// RegistryClients, the copy engine's options and the endpoints readiness pings. Every command (serve, sync,
// check-config, register-webhook) and every use case builds them here, so a new setting is read in one place.
import type { Config, DestinationConfig } from '../config/config.js';
import { keyPrefix } from '../config/destinations.js';
import type { CopyOptions } from '../copy/index.js';
import { HarborClient } from '../harbor/client.js';
import type { HarborInfo } from '../harbor/detect.js';
import { labelRule } from '../filters/rules.js';
import { SelectedSource } from '../harbor/selected-source.js';
import type { RegistryEndpoint } from '../health/registry-ping.js';
import {
  RegistryClient,
  type CredentialSource,
  type InvalidNameHandler,
  type ProtocolSetting,
  type ProxyRoutes,
  type RequestPacer,
} from '../oci/index.js';
import type { TransportObserver } from '../oci/transport.js';

export interface HarborCredentials {
  user?: string;
  password?: string;
}

/** Harbor's REST API with the configured address and TLS settings, as `credentials` (or anonymous). */
export function harborClient(config: Config, credentials: HarborCredentials): HarborClient {
  return new HarborClient({
    address: config.harbor.address,
    protocol: config.harbor.protocol,
    username: credentials.user,
    password: credentials.password,
    skipTlsVerify: config.harbor.skipTlsVerify,
    caCertificate: config.harbor.caCertificate,
    proxies: config.proxy,
  });
}

export interface SourceOptions extends HarborCredentials {
  observer?: TransportObserver;
  pacer?: RequestPacer;
  /** What the service already learnt about Harbor's API (a manual call's context then asks nothing again). */
  known?: HarborInfo;
  log?: { info(message: string): void; warn(message: string): void };
  retries?: number;
  onInvalidName?: InvalidNameHandler;
}

/**
 * The pair every sync reads from: Harbor's registry (/v2/) as a RegistryClient and the source API
 * (SelectedSource) over Harbor's REST client, sharing the token realm hosts the API learns.
 */
export function buildSource(
  config: Config,
  options: SourceOptions,
): { harbor: SelectedSource; source: RegistryClient } {
  const client = harborClient(config, options);
  // TokenRealmHosts, and Harbor's external URL (the host its token realm is on): the SelectedSource adds the
  // latter once systeminfo names it; the transport reads this same array whenever a challenge arrives.
  const realmHosts = [
    ...config.tokenRealmHosts,
    ...(options.known?.externalUrl ? [new URL(options.known.externalUrl).host] : []),
  ];
  const source = new RegistryClient({
    ...harborEndpoint(config),
    protocolSetting: protocolKey('HarborProtocol'),
    credentials: options.user ? { username: options.user, password: options.password ?? '' } : undefined,
    requestsPerSecond: config.engine.harborRequestsPerSecond,
    pacer: options.pacer,
    observer: options.observer,
    tokenRealmHosts: realmHosts,
    onInvalidName: options.onInvalidName,
    ...(options.retries === undefined ? {} : { retry: { retries: options.retries } }),
  });
  const harbor = new SelectedSource(
    client,
    config.harbor.api,
    source,
    {
      info: options.log?.info.bind(options.log),
      warn: options.log?.warn.bind(options.log),
      realmHosts,
      labelsNeededBy: labelRule(config.filters.values())?.name,
    },
    options.known,
  );
  return { harbor, source };
}

export interface DestinationOptions {
  /** A client that copies (asks push rights, paced); otherwise one that only checks (one retry, paced only by `pacer`). */
  push?: boolean;
  observer?: TransportObserver;
  pacer?: RequestPacer;
  onInvalidName?: InvalidNameHandler;
  /** Whose protocol, TLS settings and request rate: the default destination's unless another is given. */
  settings?: Pick<DestinationConfig, 'swr' | 'requestsPerSecond'> & Partial<Pick<DestinationConfig, 'name'>>;
}

/** The destination registry (SWR, or the registry in SWRRegistry) with the configured protocol and TLS settings. */
export function destinationClient(
  config: Config,
  registry: string,
  credentials: CredentialSource,
  options: DestinationOptions = {},
): RegistryClient {
  const settings = options.settings ?? { swr: config.swr, requestsPerSecond: config.engine.requestsPerSecond };
  const common = {
    ...destinationEndpoint(settings.swr, registry, config.proxy),
    credentials,
    tokenRealmHosts: config.tokenRealmHosts,
    // A named destination's scheme is its own key (dr_SWRProtocol): the hint names that one.
    protocolSetting: protocolKey(
      `${options.settings?.name ? keyPrefix({ name: options.settings.name }) : ''}SWRProtocol`,
    ),
  };
  // A check is unpaced unless given the destination's pacer: the manual call's check of SWR comes right before
  // the job it queues, and its requests count against the same per-tenant budget.
  if (!options.push) return new RegistryClient({ ...common, retry: { retries: 1 }, pacer: options.pacer });
  return new RegistryClient({
    ...common,
    push: true,
    requestsPerSecond: settings.requestsPerSecond,
    pacer: options.pacer,
    observer: options.observer,
    onInvalidName: options.onInvalidName,
  });
}

/** What a registry answering in the other protocol is told to change: the key that sets its scheme. */
function protocolKey(key: string): ProtocolSetting {
  return { toHttp: `set ${key}=http`, toHttps: `set ${key}=https` };
}

/** The copy engine's settings from the configuration (the rest keep the engine's defaults). */
export function copyEngineOptions(config: Config): Partial<CopyOptions> {
  return {
    overwrite: config.imageOverwrite,
    maxImagesInFlight: config.engine.maxImagesInFlight,
    maxBlobTransfersPerRegistry: config.engine.maxBlobTransfers,
    manifestFormat: config.engine.manifestFormat,
    referrers: config.engine.copySignatures,
  };
}

/** Harbor and the configured destination as readiness pings them. */
export function registryEndpoints(config: Config): { harbor: RegistryEndpoint; destination: RegistryEndpoint } {
  return {
    harbor: harborEndpoint(config),
    destination: destinationEndpoint(config.swr, config.swr.registry, config.proxy),
  };
}

/** Harbor's registry (/v2/): its host, protocol and TLS settings, for its RegistryClient and its pings. */
function harborEndpoint(config: Config): RegistryEndpoint {
  return {
    host: config.harbor.address,
    insecure: config.harbor.protocol === 'http',
    skipTlsVerify: config.harbor.skipTlsVerify,
    caCertificate: config.harbor.caCertificate,
    proxies: config.proxy,
  };
}

/** A destination registry host with the destination's protocol and TLS settings. */
function destinationEndpoint(swr: DestinationConfig['swr'], registry: string, proxies: ProxyRoutes): RegistryEndpoint {
  return {
    host: registry,
    insecure: swr.protocol === 'http',
    skipTlsVerify: swr.skipTlsVerify,
    caCertificate: swr.caCertificate,
    proxies,
  };
}
