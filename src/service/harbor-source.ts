// Builds the pair every sync reads from: Harbor's registry (/v2/) as a RegistryClient and the source API
// (SelectedSource) over Harbor's REST client, sharing the token realm hosts the API learns.
import type { Config } from '../config/config.js';
import { HarborClient } from '../harbor/client.js';
import type { HarborInfo } from '../harbor/detect.js';
import { SelectedSource } from '../harbor/selected-source.js';
import { RegistryClient, type InvalidNameHandler, type RequestPacer } from '../oci/index.js';
import type { TransportObserver } from '../oci/transport.js';

export interface SourceOptions {
  user?: string;
  password?: string;
  observer?: TransportObserver;
  pacer?: RequestPacer;
  /** What the service already learnt about Harbor's API (a manual call's context then asks nothing again). */
  known?: HarborInfo;
  log?: { info(message: string): void; warn(message: string): void };
  retries?: number;
  onInvalidName?: InvalidNameHandler;
}

export function buildSource(config: Config, options: SourceOptions): { harbor: SelectedSource; source: RegistryClient } {
  const client = new HarborClient({ address: config.harbor.address, protocol: config.harbor.protocol, username: options.user, password: options.password, skipTlsVerify: config.harbor.skipTlsVerify, caCertificate: config.harbor.caCertificate });
  // TokenRealmHosts, and Harbor's external URL (the host its token realm is on): the SelectedSource adds the
  // latter once systeminfo names it; the transport reads this same array whenever a challenge arrives.
  const realmHosts = [...config.tokenRealmHosts, ...(options.known?.externalUrl ? [new URL(options.known.externalUrl).host] : [])];
  const source = new RegistryClient({
    host: config.harbor.address,
    insecure: config.harbor.protocol === 'http',
    skipTlsVerify: config.harbor.skipTlsVerify,
    caCertificate: config.harbor.caCertificate,
    credentials: options.user ? { username: options.user, password: options.password ?? '' } : undefined,
    requestsPerSecond: config.engine.harborRequestsPerSecond,
    pacer: options.pacer,
    observer: options.observer,
    tokenRealmHosts: realmHosts,
    onInvalidName: options.onInvalidName,
    ...(options.retries === undefined ? {} : { retry: { retries: options.retries } }),
  });
  const harbor = new SelectedSource(client, config.harbor.api, source, { info: options.log?.info.bind(options.log), warn: options.log?.warn.bind(options.log), realmHosts }, options.known);
  return { harbor, source };
}
