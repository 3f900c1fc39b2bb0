// Owns the job duration histogram: times each attempt around the runner's handler; for jobs that name their
// destination (several destinations), each attempt's outcome by destination; and what delete jobs did per tag
// (copies are counted from the engine's events, deletions have none); images of copy jobs per project.
import type { ImageResult } from '../copy/index.js';
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
      if (job.spec.kind !== 'delete') countProjectImages(job.spec.project, outcome.results, metrics);
      else
        for (const r of outcome.results)
          metrics.tagsDeleted.inc({
            outcome: r.status === 'deleted' ? 'deleted' : r.status === 'failed' ? 'failed' : 'kept',
          });
      done(outcome.results.some((r) => r.status === 'failed') ? 'failed' : outcome.skipped ? 'skipped' : 'succeeded');
      return outcome;
    } catch (error) {
      done('failed');
      throw error;
    }
  };
}

const PROJECT_OUTCOME = { copied: 'synced', skipped: 'skipped', failed: 'failed' } as const;

function countProjectImages(project: string, results: ImageResult[], metrics: ServiceMetrics): void {
  for (const r of results) {
    // A dry run writes nothing, as in images_total.
    if (r.dryRun || r.status === 'deleted') continue;
    metrics.projectImages.inc({ project, outcome: PROJECT_OUTCOME[r.status] });
  }
}
