// Owns the readiness gauges: the verdict of /readyz and each of its checks, judged at scrape time, so that an
// alert sees what a probe sees even where nothing probes (compose, a plain host).
import { Gauge } from 'prom-client';
import type { Readiness } from '../health/readiness.js';
import { PREFIX, type ServiceMetrics } from './service-metrics.js';

export function countReadiness(readiness: Readiness, metrics: ServiceMetrics): void {
  // The registry collects metrics at once: both gauges share the check in flight rather than running two.
  let pending: ReturnType<Readiness['check']> | undefined;
  const report = () => (pending ??= readiness.check().finally(() => (pending = undefined)));
  new Gauge({
    name: `${PREFIX}readiness_check`,
    help: 'Each check behind /readyz (store, config, harbor, destination): 1 passing, 0 failing (/readyz says why and what to do).',
    labelNames: ['check'] as const,
    registers: [metrics.registry],
    async collect() {
      for (const [check, result] of Object.entries((await report()).checks)) this.set({ check }, result.ok ? 1 : 0);
    },
  });
  new Gauge({
    name: `${PREFIX}ready`,
    help: '1 when /readyz answers 200 (every check passes), else 0.',
    registers: [metrics.registry],
    async collect() {
      this.set((await report()).ready ? 1 : 0);
    },
  });
}
