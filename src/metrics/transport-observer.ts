// Owns the observer given to every registry transport: request and retry counters, and what each host
// last did for readiness. The OCI client only calls it; what it means lives here.
import type { TransportObserver } from '../oci/transport.js';
import type { RegistryActivity } from '../health/registry-activity.js';
import type { ServiceMetrics } from './service-metrics.js';

export function registryObserver(metrics: ServiceMetrics, activity: RegistryActivity): TransportObserver {
  return {
    response(host, method, status) {
      metrics.registryRequests.inc({ registry: host, method, status: String(status) });
      // A 4xx is still an answer (a missing tag, a token to fetch); a 5xx means the registry is in trouble.
      if (status < 500) activity.answered(host);
      else activity.failed(host, `${host} answered ${method} with HTTP ${status}`);
    },
    unanswered(host, method, reason) {
      metrics.registryRequests.inc({ registry: host, method, status: 'network_error' });
      activity.failed(host, reason);
    },
    retry(host, reason) {
      metrics.registryRetries.inc({ registry: host, reason });
    },
  };
}
