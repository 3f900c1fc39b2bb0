// Owns assembling the service's monitoring from its configuration and job store: the metrics, the observer every
// registry transport reports to, and the readiness checks (health/), so that the composition root wires one thing.
import type { Config } from '../config/config.js';
import type { CopyEvents } from '../copy/index.js';
import type { JobQueue } from '../jobs/queue.js';
import type { TransportObserver } from '../oci/transport.js';
import { Readiness } from '../health/readiness.js';
import { RegistryActivity } from '../health/registry-activity.js';
import { countCopies } from '../metrics/copy-metrics.js';
import { countQueue } from '../metrics/queue-metrics.js';
import { countReadiness } from '../metrics/readiness-metrics.js';
import { ServiceMetrics } from '../metrics/service-metrics.js';
import { registryObserver } from '../metrics/transport-observer.js';
import { registryEndpoints } from '../service/clients.js';

export interface Monitoring {
  metrics: ServiceMetrics;
  readiness: Readiness;
  /** Give to every registry client the service makes. */
  observer: TransportObserver;
}

export function createMonitoring(config: Config, queue: JobQueue, events: CopyEvents): Monitoring {
  const metrics = new ServiceMetrics(() => queue.counts());
  countCopies(events, metrics);
  const activity = new RegistryActivity();
  const harbor = `${config.harbor.protocol}://${config.harbor.address}`;
  const destination = `${config.swr.protocol}://${config.swr.registry}`;
  const endpoints = registryEndpoints(config);
  const readiness = new Readiness({
    probeStore: () => queue.probeWrite(),
    storeAction:
      queue.backend === 'sqlite'
        ? `make DataDir (${config.dataDir}) writable again: a disk remounted read-only or full stops it; until then webhooks are answered 503 and Harbor retries them`
        : 'check that Redis (RedisURL) is up, reachable and not out of memory or read-only; until then webhooks are answered 503 and Harbor retries them',
    configSource: config.source,
    activity,
    registries: [
      {
        name: 'harbor',
        endpoint: endpoints.harbor,
        action: `check that Harbor at ${harbor} is up and reachable from here (HarborAddr, HarborProtocol, HarborCACert, proxies, firewalls)`,
      },
      {
        name: 'destination',
        endpoint: endpoints.destination,
        action: `check that the destination registry at ${destination} is up and reachable from here (SWRRegistry or RegionName, SWRProtocol, SWRCACert, proxies, firewalls); jobs wait and retry meanwhile`,
      },
    ],
  });
  countQueue(queue, metrics);
  countReadiness(readiness, metrics);
  return { metrics, readiness, observer: registryObserver(metrics, activity) };
}
