// Pushes that arrived without a tag wait a moment (the rest of a multi-arch burst arrives meanwhile), then
// Harbor says which tags the digest has: tagged ones become image jobs, untagged ones (index children,
// pushes by digest) are dropped, since the index or a later tag event carries them.
import type winston from 'winston';
import type { HarborSource } from '../harbor/source.js';
import type { JobQueue } from '../jobs/queue.js';
import type { PendingPush } from '../jobs/types.js';
import { aimedAt, imageJobKey, type JobTarget } from './job-keys.js';

export async function resolvePendingPushes(
  store: Pick<JobQueue, 'pendingPushesBefore' | 'enqueue' | 'removePendingPush'>,
  harbor: HarborSource,
  /** Where the push's project is written: one image job per target. */
  targetsOf: (push: PendingPush) => JobTarget[],
  coalesceMs: number,
  log: winston.Logger,
): Promise<number> {
  let queued = 0;
  for (const push of await store.pendingPushesBefore(new Date(Date.now() - coalesceMs))) {
    let tags: string[] | undefined;
    try {
      tags = (await harbor.getArtifact(push.project, push.repository, push.digest))?.tags;
    } catch (error) {
      // Harbor unreachable: the push stays recorded and is tried again on the next round.
      log.warn(
        `cannot ask Harbor for the tags of ${push.project}/${push.repository}@${push.digest}: ${(error as Error).message}`,
      );
      continue;
    }
    if (tags && tags.length > 0) {
      for (const target of targetsOf(push)) {
        const spec = aimedAt(
          {
            kind: 'image' as const,
            project: push.project,
            repository: push.repository,
            digest: push.digest,
            tags,
            namespace: push.namespace,
          },
          target,
        );
        const { job, merged } = await store.enqueue(spec, imageJobKey(target.destination, spec));
        if (!merged) queued++;
        const where = target.named ? ` for ${target.destination}` : '';
        log.info(`${push.project}/${push.repository}@${push.digest} resolved to tag(s) ${tags.join(', ')}${where}`, {
          jobId: job.id,
        });
      }
    } else {
      log.info(
        `${push.project}/${push.repository}@${push.digest} has no tag in Harbor (multi-arch child or push by digest); not synced on its own`,
      );
    }
    await store.removePendingPush(push.id);
  }
  return queued;
}
