// Owns the job duration histogram: times each attempt around the runner's handler; and counts what delete jobs
// did per tag (copies are counted from the engine's events, deletions have none).
import type { JobHandler } from '../jobs/types.js';
import type { ServiceMetrics } from './service-metrics.js';

export function timedJobs(handler: JobHandler, metrics: ServiceMetrics): JobHandler {
  return async (job, progress, signal) => {
    const done = metrics.jobSeconds.startTimer({ kind: job.spec.kind });
    try {
      const outcome = await handler(job, progress, signal);
      if (job.spec.kind === 'delete')
        for (const r of outcome.results)
          metrics.tagsDeleted.inc({
            outcome: r.status === 'deleted' ? 'deleted' : r.status === 'failed' ? 'failed' : 'kept',
          });
      done({
        outcome: outcome.results.some((r) => r.status === 'failed')
          ? 'failed'
          : outcome.skipped
            ? 'skipped'
            : 'succeeded',
      });
      return outcome;
    } catch (error) {
      done({ outcome: 'failed' });
      throw error;
    }
  };
}
