// The sweep's deletions (ReconcileDeletes=true): tags the service wrote for a project that Harbor no longer
// has become delete jobs, one per (repository, source digest), through the same delete job as Harbor's events;
// dry runs list the same tags. Only repositories whose Harbor listing was read are judged: one that could not
// be listed keeps its tags.
import type { JobQueue } from '../jobs/queue.js';
import type { DeleteJobSpec } from '../jobs/types.js';
import type { WrittenTag, WrittenTags } from '../jobs/written-tags.js';
import type { ProjectLogs } from '../logging/logs.js';
import type { SyncContext } from './context.js';
import { deleteJobKey } from './job-keys.js';

export interface HarborView {
  project: string;
  namespace: string;
  /** Every repository Harbor listed for the project. */
  repositories: ReadonlySet<string>;
  /** Tags of the repositories whose artifacts were read (the others are not judged). */
  tags: ReadonlyMap<string, ReadonlySet<string>>;
}

/** Tags the service wrote that Harbor no longer has, by (repository without the namespace, source digest). */
export interface Gone {
  repository: string;
  digest: string;
  tags: WrittenTag[];
}

export async function goneFromHarbor(written: WrittenTags, host: string, harbor: HarborView): Promise<Gone[]> {
  const prefix = `${harbor.namespace}/`;
  const gone = new Map<string, Gone>();
  for (const tag of await written.inNamespace(host, harbor.namespace)) {
    if (tag.project !== harbor.project || !tag.repository.startsWith(prefix)) continue;
    const repository = tag.repository.slice(prefix.length);
    const tags = harbor.tags.get(repository);
    // Listed by Harbor but not read (a failure, a filter, or the sweep stopping): unknown, so kept.
    if (!tags && harbor.repositories.has(repository)) continue;
    if (tags?.has(tag.tag)) continue;
    const key = `${repository}@${tag.sourceDigest}`;
    const entry = gone.get(key) ?? { repository, digest: tag.sourceDigest, tags: [] };
    entry.tags.push(tag);
    gone.set(key, entry);
  }
  return [...gone.values()];
}

/** Delete jobs queued (or joined) for the project; each is logged in its running log. */
export async function queueSweepDeletes(
  ctx: SyncContext,
  store: Pick<JobQueue, 'enqueue'>,
  harbor: HarborView,
  where: { destination: string; specDestination?: string },
  logs: ProjectLogs,
): Promise<{ queued: number; merged: number }> {
  const counts = { queued: 0, merged: 0 };
  if (!ctx.written) return counts;
  for (const gone of await goneFromHarbor(ctx.written, ctx.destination.host, harbor)) {
    const { repository, digest } = gone;
    const tags = gone.tags.map((t) => t.tag);
    const spec: DeleteJobSpec = {
      kind: 'delete',
      project: harbor.project,
      repository,
      digest,
      tags,
      namespace: harbor.namespace,
      trigger: 'reconcile',
      ...(where.specDestination ? { destination: where.specDestination } : {}),
    };
    // Keyed, unlike an event's job: a delete still queued or retrying is joined, not queued again each sweep.
    const { job, merged } = await store.enqueue(spec, deleteJobKey(where.destination, spec));
    if (merged) counts.merged++;
    else counts.queued++;
    logs.running.info(
      `reconcile: ${ctx.destination.host}/${harbor.namespace}/${repository}:${tags.join(',')} (written from ${digest}) no longer in Harbor; delete ${merged ? 'joined this job' : 'queued'} (ReconcileDeletes=true)`,
      { jobId: job.id },
    );
  }
  return counts;
}
