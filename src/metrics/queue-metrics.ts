// Owns what the queue backend says about the deployment's replicas: how many work on the queue now, and this
// replica's job locks (held, renewed, failed to renew), read at scrape time. On SQLite no lock exists: the lock
// series stay at 0, so dashboards and alerts read the same names on both backends.
import { Gauge } from 'prom-client';
import type { JobQueue } from '../jobs/queue.js';
import { followingCounter } from './following-counter.js';
import { PREFIX, type ServiceMetrics } from './service-metrics.js';

export function countQueue(queue: JobQueue, metrics: ServiceMetrics): void {
  const registers = [metrics.registry];
  new Gauge({
    name: `${PREFIX}replicas`,
    help: 'Replicas taking jobs from the queue, as the job store sees them (1 on SQLite; on Redis those that said so in the last 30 s).',
    registers,
    async collect() {
      // An unreadable store keeps the last value; /readyz and swr_harbor_sync_ready say what is wrong.
      const seen = await queue.replicas().catch(() => undefined);
      if (seen !== undefined) this.set(seen);
    },
  });
  new Gauge({
    name: `${PREFIX}job_locks_held`,
    help: 'Jobs running on this replica under a lock it must keep renewing (Redis); 0 on SQLite, where none is needed.',
    registers,
    collect() {
      this.set(queue.locks?.held ?? 0);
    },
  });
  followingCounter(
    metrics.registry,
    `${PREFIX}job_lock_renewals_total`,
    "Renewals of this replica's job locks that Redis took, one per job per renewal: flat while job_locks_held > 0 means the replica stopped renewing.",
    () => queue.locks?.renewed ?? 0,
  );
  followingCounter(
    metrics.registry,
    `${PREFIX}job_lock_renewal_failures_total`,
    "Renewals of this replica's job locks that Redis refused or did not answer: the job was stopped here, as another replica may take it over.",
    () => queue.locks?.failed ?? 0,
  );
}
