// Builds the clients a sync runs with: from the configuration, or from credentials a manual call brought.
import type { Config } from '../config/config.js';
import { swrRegistryHost } from '../config/regions.js';
import type { CopyEngine } from '../copy/index.js';
import { HarborClient } from '../harbor/client.js';
import type { Logs } from '../logging/logs.js';
import { RegistryClient, type Credentials } from '../oci/index.js';
import { registryLogin } from '../swr/login.js';
import type { SyncContext } from '../sync/context.js';

export interface HarborCredentials {
  user?: string;
  password?: string;
}

export interface ContextCredentials {
  harbor: HarborCredentials;
  destination: Credentials;
  /** Destination registry host (SWRRegistry, or the region's SWR host). */
  registry: string;
}

export function configuredCredentials(config: Config): ContextCredentials {
  return { harbor: { user: config.harbor.user, password: config.harbor.password }, destination: registryLogin(config), registry: config.swr.registry };
}

/** The destination for a region given in a manual call; an explicit SWRRegistry always wins (tests, other registries). */
export function registryForRegion(config: Config, region: string): string {
  return config.swr.explicit ? config.swr.registry : swrRegistryHost(region);
}

export function buildContext(config: Config, engine: CopyEngine, logs: Logs, credentials: ContextCredentials, overwrite: boolean): SyncContext & { close(): Promise<void> } {
  const harbor = new HarborClient({ address: config.harbor.address, protocol: config.harbor.protocol, username: credentials.harbor.user, password: credentials.harbor.password, skipTlsVerify: config.harbor.skipTlsVerify });
  const source = new RegistryClient({
    host: config.harbor.address,
    insecure: config.harbor.protocol === 'http',
    skipTlsVerify: config.harbor.skipTlsVerify,
    credentials: credentials.harbor.user ? { username: credentials.harbor.user, password: credentials.harbor.password ?? '' } : undefined,
    requestsPerSecond: config.engine.harborRequestsPerSecond,
  });
  const destination = new RegistryClient({
    host: credentials.registry,
    insecure: config.swr.protocol === 'http',
    credentials: credentials.destination,
    push: true,
    requestsPerSecond: config.engine.requestsPerSecond,
  });
  return {
    engine,
    harbor,
    source,
    destination,
    overwrite,
    logs: (project) => logs.project(project),
    async close() {
      await Promise.all([harbor.close(), source.close(), destination.close()]);
    },
  };
}
