// Sync of one pushed artifact: ask Harbor which tags the digest carries now, and copy it under each of
// those tags into the mapped namespace, pinned to the digest so a tag moving mid-copy cannot mix images.
// The spec's `tags` (those the webhooks named) are not what is copied: Harbor's API answers for the digest,
// and only the registry-only source (HarborAPI=registry, no API to ask) copies the spec's tags. Tags the
// project's filter rules leave out are not copied; label rules are decided here, with the artifact's labels.
import { RunState, type ImageResult } from '../copy/index.js';
import { rulesFor } from '../filters/rules.js';
import { filteredBy } from '../filters/select.js';
import type { ImageJobSpec } from '../jobs/types.js';
import type { SyncContext, SyncOutcome, SyncProgress } from './context.js';
import { swrRepositoryProblem } from '../swr/names.js';
import { explained, logResult, logWholeFailure, refusedName } from './log-result.js';
import { ListedRunState, NamespaceState, listedSameDigest } from './destination-state.js';
import { recordWritten } from './written.js';
import { finishPendingUndo, undoIfDeletedMeanwhile, undoLeftPending } from './deleted-meanwhile.js';

/**
 * Syncs the pushed artifact; a failure of the whole job is written to <project>-running.log before it is thrown.
 * `previous`: the results the job's last attempt left, which may hold a deletion still to make.
 */
export async function syncImage(
  ctx: SyncContext,
  spec: ImageJobSpec,
  progress?: SyncProgress,
  previous?: readonly ImageResult[],
): Promise<SyncOutcome> {
  try {
    if (!ctx.deletesOnEvents || !ctx.written || !undoLeftPending(previous))
      return await syncArtifact(ctx, spec, progress);
    const undone = await finishPendingUndo(ctx, spec);
    if (undone.results.some((r) => r.undoPending)) return undone;
    // Then the sync as usual: a push merged into the job while it waited (the image pushed again, a tag added)
    // is copied; an image still gone is skipped.
    const synced = await syncArtifact(ctx, spec, progress);
    const results = [...undone.results, ...synced.results];
    return results.length === 0 ? { results, skipped: synced.skipped ?? undone.skipped } : { results };
  } catch (error) {
    const what = `sync of ${spec.project}/${spec.repository}@${spec.digest} into ${ctx.destination.host}/${spec.namespace}`;
    logWholeFailure(ctx.logs(spec.project), what, ctx.signal?.aborted === true, error);
    throw error;
  }
}

async function syncArtifact(ctx: SyncContext, spec: ImageJobSpec, progress?: SyncProgress): Promise<SyncOutcome> {
  const logs = ctx.logs(spec.project);
  // A failure to ask (Harbor down, no API at HarborAddr) throws: the job fails with the cause and is retried.
  const artifact = await ctx.harbor.getArtifact(spec.project, spec.repository, spec.digest, spec.tags);
  if (!artifact) {
    logs.running.info(`${spec.project}/${spec.repository}@${spec.digest} is no longer in Harbor; nothing to sync`);
    return { results: [], skipped: 'the artifact was deleted from Harbor before it could be synced' };
  }
  if (artifact.tags.length === 0) {
    logs.running.info(
      `${spec.project}/${spec.repository}@${spec.digest} has no tag; an index that refers to it carries it over`,
    );
    return { results: [], skipped: 'the artifact has no tag (a multi-arch child or a push by digest)' };
  }
  // The labels came with the artifact: a webhook does not carry them, so label rules are decided here.
  const rules = rulesFor(ctx.filters, spec.project);
  let lastRule: string | undefined;
  const tags = artifact.tags.filter((tag) => {
    const rule = filteredBy(rules, { repository: spec.repository, tag, labels: artifact.labels });
    if (rule)
      logs.running.info(`${spec.project}/${spec.repository}:${tag} (${spec.digest}) not synced: skipped: ${rule}`);
    lastRule = rule ?? lastRule;
    return !rule;
  });
  if (tags.length === 0) return { results: [], skipped: `skipped: ${lastRule}` };
  const destination = `${spec.namespace}/${spec.repository}`;
  const problem = swrRepositoryProblem(destination);
  if (problem) {
    const result = refusedName(
      `${ctx.source.host}/${spec.project}/${spec.repository}`,
      `${ctx.destination.host}/${destination}`,
      `"${destination}" ${problem}`,
    );
    logResult(logs, result);
    return { results: [result] };
  }
  await ctx.prepare?.(spec.namespace);
  const state = new NamespaceState(ctx.listing, spec.namespace);
  // One listing of this repository's tags (SWR's management API) says whether the image is there already.
  const listed = await state.tagDigests(spec.repository, false);
  const run = listed ? new ListedRunState(state, ctx.destination, ctx.signal) : new RunState(ctx.signal);
  const results: ImageResult[] = [];
  let bytes = 0;
  const copyTag = async (tag: string): Promise<void> => {
    if (listed?.get(tag) === spec.digest) {
      const result = listedSameDigest(
        `${ctx.source.host}/${spec.project}/${spec.repository}:${tag}`,
        `${ctx.destination.host}/${destination}:${tag}`,
        spec.digest,
      );
      results.push(result);
      logResult(logs, result);
      await recordWritten(ctx, { ...spec, tag, sourceDigest: spec.digest }, result);
      progress?.onImage(results.length, tags.length, bytes);
      return;
    }
    logs.running.info(
      `syncing ${spec.project}/${spec.repository}:${tag} (${spec.digest}) to ${ctx.destination.host}/${spec.namespace}/${spec.repository}:${tag}`,
    );
    const result = await ctx.engine.copyInFlight(
      {
        source: { client: ctx.source, repository: `${spec.project}/${spec.repository}`, reference: spec.digest },
        destination: {
          client: ctx.destination,
          repository: `${spec.namespace}/${spec.repository}`,
          tag,
          overwrite: ctx.overwrite,
        },
      },
      run,
    );
    const named = explained(
      { ...result, source: `${ctx.source.host}/${spec.project}/${spec.repository}:${tag}` },
      spec.namespace,
      ctx.keyPrefix,
    );
    results.push(named);
    logResult(logs, named);
    await recordWritten(ctx, { ...spec, tag, sourceDigest: spec.digest }, named);
    bytes += result.bytesUploaded;
    progress?.onImage(results.length, tags.length, bytes);
  };
  // The first tag carries the blobs over; the others then only need their manifest, side by side.
  await copyTag(tags[0]);
  await Promise.all(tags.slice(1).map(copyTag));
  results.push(...(await undoIfDeletedMeanwhile(ctx, spec, results)));
  return { results };
}
