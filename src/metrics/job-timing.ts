// Owns the job duration histogram: times each attempt around the runner's handler.
import type { JobHandler } from '../jobs/types.js';
import type { ServiceMetrics } from './service-metrics.js';

export function timedJobs(handler: JobHandler, metrics: ServiceMetrics): JobHandler {
  return async (job, progress, signal) => {
    const done = metrics.jobSeconds.startTimer({ kind: job.spec.kind });
    try {
      const outcome = await handler(job, progress, signal);
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
