// Owns MaxBandwidth's metrics: the cap, and what this replica's transfers were granted and how often and how
// long they waited for it, read from the limiter's own counts at scrape time (so nothing is counted twice).
import { Gauge } from 'prom-client';
import type { BandwidthLimiter } from '../copy/index.js';
import { followingCounter } from './following-counter.js';
import { PREFIX, type ServiceMetrics } from './service-metrics.js';

export function countBandwidth(limiter: BandwidthLimiter, metrics: ServiceMetrics): void {
  const registers = [metrics.registry];
  new Gauge({
    name: `${PREFIX}bandwidth_limit_bytes_per_second`,
    help: 'MaxBandwidth: blob bytes per second for the whole deployment (absent when there is no cap).',
    registers,
    collect() {
      this.set(limiter.bytesPerSecond);
    },
  });
  const following = (name: string, help: string, read: () => number) =>
    followingCounter(metrics.registry, `${PREFIX}${name}`, help, read);
  following(
    'bandwidth_granted_bytes_total',
    'Blob bytes this replica sent under MaxBandwidth (equal to the bytes uploaded, counted as they are let through).',
    () => limiter.stats.grantedBytes,
  );
  following(
    'bandwidth_waits_total',
    'Times a chunk of a blob waited for its share of MaxBandwidth on this replica.',
    () => limiter.stats.waits,
  );
  following(
    'bandwidth_wait_seconds_total',
    'Time chunks waited for MaxBandwidth on this replica, summed over transfers running at once: a rate near the number of transfers means the cap is what paces them.',
    () => limiter.stats.waitedMs / 1000,
  );
}
