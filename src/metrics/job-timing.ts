// Owns the job duration histogram: times each attempt around the runner's handler; and, for jobs that name their
// destination (several destinations), counts each attempt's outcome by destination.
import type { JobHandler } from '../jobs/types.js';
import type { ServiceMetrics } from './service-metrics.js';

export function timedJobs(handler: JobHandler, metrics: ServiceMetrics): JobHandler {
  return async (job, progress, signal) => {
    const timer = metrics.jobSeconds.startTimer({ kind: job.spec.kind });
    const { destination } = job.spec;
    const done = (outcome: 'failed' | 'skipped' | 'succeeded') => {
      timer({ outcome });
      if (destination) metrics.destinationJobs.inc({ destination, outcome });
    };
    try {
      const outcome = await handler(job, progress, signal);
      done(outcome.results.some((r) => r.status === 'failed') ? 'failed' : outcome.skipped ? 'skipped' : 'succeeded');
      return outcome;
    } catch (error) {
      done('failed');
      throw error;
    }
  };
}
