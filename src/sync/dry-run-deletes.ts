// What a dry run says of deletions (ReconcileDeletes=true): the tags the service wrote for the project that Harbor
// no longer has, which the next sweep deletes, each as a planned result. Read from the record of written tags and
// Harbor's listings (only repositories the record names); nothing is queued or deleted.
import { ImageTally, type ImageResult } from '../copy/index.js';
import type { ProjectJobSpec } from '../jobs/types.js';
import type { SyncContext } from './context.js';
import { goneFromHarbor } from './reconcile-deletes.js';

export async function plannedDeletions(ctx: SyncContext, spec: ProjectJobSpec): Promise<ImageResult[]> {
  if (!ctx.written || !ctx.deletesInSweep) return [];
  const host = ctx.destination.host;
  const prefix = `${spec.namespace}/`;
  const recorded = new Set(
    (await ctx.written.inNamespace(host, spec.namespace))
      .filter((t) => t.project === spec.project)
      .map((t) => t.repository.slice(prefix.length)),
  );
  if (recorded.size === 0) return [];
  const inHarbor = new Set(await ctx.harbor.listRepositories(spec.project));
  const tags = new Map<string, Set<string>>();
  // Repositories outside the request's scope count as listed and unread: their tags are not judged.
  const repositories = new Set(inHarbor);
  for (const repository of recorded) {
    if (spec.repositories && !spec.repositories.includes(repository)) repositories.add(repository);
    else if (inHarbor.has(repository)) {
      const artifacts = await ctx.harbor.listArtifacts(spec.project, repository);
      tags.set(repository, new Set(artifacts.flatMap((a) => a.tags)));
    }
  }
  const view = { project: spec.project, namespace: spec.namespace, repositories, tags };
  const results: ImageResult[] = [];
  for (const gone of await goneFromHarbor(ctx.written, host, view)) {
    for (const tag of gone.tags) {
      if (spec.tags && !spec.tags.includes(tag.tag)) continue;
      results.push(
        new ImageTally().result({
          source: `${ctx.source.host}/${spec.project}/${gone.repository}:${tag.tag}`,
          destination: `${host}/${tag.repository}:${tag.tag}`,
          status: 'skipped',
          skip: 'planned-delete',
          reason: 'would be deleted: written by this service, no longer in Harbor (ReconcileDeletes=true)',
          sourceDigest: tag.sourceDigest,
          destinationDigest: tag.digest,
          dryRun: true,
        }),
      );
    }
  }
  return results;
}
