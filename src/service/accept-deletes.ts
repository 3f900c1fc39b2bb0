// Harbor's delete events become delete jobs (SyncDeletes=true): one per deleted digest, and only when the
// service wrote a tag of it at the destination, so that a blob deletion or an image never synced makes no job.
import type winston from 'winston';
import type { Config } from '../config/config.js';
import type { PushEvent } from '../harbor/webhook.js';
import type { JobQueue } from '../jobs/queue.js';
import type { DeleteJobSpec } from '../jobs/types.js';
import type { WrittenTags } from '../jobs/written-tags.js';
import type { Logs } from '../logging/logs.js';
import { aimedAt, type JobTarget } from '../sync/job-keys.js';

export interface DeleteIntake {
  config: Config;
  queue: Pick<JobQueue, 'enqueue'>;
  written?: WrittenTags;
  logs: Logs;
  log: winston.Logger;
  /** Where a project is written: a delete job per destination that holds tags the service wrote. */
  targetsOf(project: string): JobTarget[];
}

export interface DeletesAccepted {
  queued: string[];
  ignored: string[];
}

/** Records the delete jobs durably (throws if the store cannot be read or written: the caller answers 503). */
export async function acceptDeletes(intake: DeleteIntake, deletes: PushEvent[]): Promise<DeletesAccepted> {
  const out: DeletesAccepted = { queued: [], ignored: [] };
  // One event may name a digest more than once (1.x deleteImage lists each tag): one job per digest.
  const byDigest = new Map<string, { event: PushEvent; tags: string[] }>();
  for (const event of deletes) {
    const key = `${event.project}/${event.repository}@${event.digest}`;
    const entry = byDigest.get(key) ?? { event, tags: [] };
    if (event.tag && !entry.tags.includes(event.tag)) entry.tags.push(event.tag);
    byDigest.set(key, entry);
  }
  for (const [name, { event, tags }] of byDigest) {
    const ignore = (why: string) => {
      out.ignored.push(`delete of ${name}: ${why}`);
      intake.log.info(`delete of ${name} in Harbor ignored: ${why}`);
    };
    const targets = intake.targetsOf(event.project);
    if (targets.length === 0) {
      ignore(`project ${event.project} is not in NamespaceMap`);
      continue;
    }
    if (!intake.config.deletes.onEvents) {
      ignore('SyncDeletes=false (deletions in Harbor are not passed on)');
      continue;
    }
    for (const target of targets) {
      const repository = `${target.namespace}/${event.repository}`;
      const recorded = (await intake.written?.bySource(target.destination, repository, event.digest)) ?? [];
      if (recorded.length === 0) {
        ignore(`this service wrote no tag of it at ${target.destination}/${repository}`);
        continue;
      }
      const spec = aimedAt<DeleteJobSpec>(
        {
          kind: 'delete',
          project: event.project,
          repository: event.repository,
          digest: event.digest,
          tags,
          namespace: target.namespace,
          trigger: 'event',
        },
        target,
      );
      // No copy key: a repeated event makes a job that finds nothing left to delete, while a key would let a
      // delete done minutes ago answer for a digest pushed and deleted again since.
      const { job } = await intake.queue.enqueue(spec, undefined);
      out.queued.push(job.id);
      intake.logs
        .project(event.project)
        .running.info(
          `delete of ${name} in Harbor queued: ${recorded.map((t) => `${target.destination}/${repository}:${t.tag}`).join(', ')} written by this service`,
          { jobId: job.id },
        );
    }
  }
  return out;
}
