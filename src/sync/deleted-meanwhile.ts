// Owns the race between an image job and Harbor deleting the image while it is being copied. The job records
// the tags it wrote only after writing them, so a delete event that arrives meanwhile finds nothing of the
// service's and is ignored; the job then leaves tags at the destination that no event will ever delete. With
// SyncDeletes on, the job asks Harbor's registry once more after recording: when the manifest is gone, what the
// job wrote is deleted as the event would have done. One more request per image job, none when deletes are off.
// The registry, not Harbor's API, is asked: deleting an artifact (2.x) or a tag (1.x) deletes the manifest there
// on every version, while a tag pushed again over it leaves it (1.x's API would no longer list the old digest,
// which is not a deletion).
// Should that deletion fail for a passing reason, the job fails with a result marked `undoPending`, and its next
// attempt deletes before anything else: the record of the tags is the service's, and no event will come again.
import { ImageTally, type ImageResult } from '../copy/index.js';
import { isPermanent } from '../jobs/policy.js';
import type { ImageJobSpec } from '../jobs/types.js';
import type { SyncContext, SyncOutcome } from './context.js';
import { deleteWrittenTags } from './delete-tags.js';
import { leftAsWritten } from './written.js';

export async function undoIfDeletedMeanwhile(
  ctx: SyncContext,
  spec: ImageJobSpec,
  results: ImageResult[],
): Promise<ImageResult[]> {
  // Only what this job wrote: tags it found already there were recorded by the job that wrote them, so a delete
  // event found them and has its own delete job (undoing here too would race it).
  if (!ctx.deletesOnEvents || !ctx.written || !results.some((r) => r.status === 'copied' && leftAsWritten(r)))
    return [];
  const name = `${spec.project}/${spec.repository}@${spec.digest}`;
  const logs = ctx.logs(spec.project);
  let still: unknown;
  try {
    still = await ctx.source.headManifest(`${spec.project}/${spec.repository}`, spec.digest, { signal: ctx.signal });
  } catch (error) {
    // A failure to ask counts as "still there", the safe side: a sweep with ReconcileDeletes=true deletes it later.
    logs.running.warn(
      `could not ask Harbor whether ${name} still exists after syncing it: ${(error as Error).message}`,
    );
    return [];
  }
  if (still) return [];
  logs.running.info(`${name} was deleted in Harbor while it was being synced: deleting what this job wrote`);
  return (await deleteWhatItWrote(ctx, spec)).results;
}

/** Whether the job's previous attempt failed to delete what it wrote (the results it left, as its store kept them). */
export function undoLeftPending(previous: readonly ImageResult[] | undefined): boolean {
  return previous?.some((r) => r.undoPending === true) === true;
}

/**
 * The next attempt after a failed undo: deletes what the job wrote, without asking Harbor's API for the image
 * first (it is gone, and a failure to ask must not lose the undo). A tag Harbor has at this digest again (pushed
 * anew since) is kept: the deletion asks Harbor's registry tag by tag.
 */
export async function finishPendingUndo(ctx: SyncContext, spec: ImageJobSpec): Promise<SyncOutcome> {
  ctx
    .logs(spec.project)
    .running.info(
      `${spec.project}/${spec.repository}@${spec.digest} was deleted in Harbor while it was being synced: deleting what this job wrote, which its previous attempt could not`,
    );
  return deleteWhatItWrote(ctx, spec);
}

async function deleteWhatItWrote(ctx: SyncContext, spec: ImageJobSpec): Promise<SyncOutcome> {
  try {
    return await deleteWrittenTags(ctx, {
      kind: 'delete',
      project: spec.project,
      repository: spec.repository,
      digest: spec.digest,
      tags: [],
      namespace: spec.namespace,
      trigger: 'event',
      ...(spec.destination ? { destination: spec.destination } : {}),
    });
  } catch (error) {
    // Stopping, or a failure another attempt cannot mend (a registry refusing deletes): the job fails as before.
    if (ctx.signal?.aborted || isPermanent(error)) throw error;
    const message = (error as Error).message;
    ctx
      .logs(spec.project)
      .running.warn(
        `could not delete what this job wrote of ${spec.project}/${spec.repository}@${spec.digest}, deleted in Harbor meanwhile: ${message}; the job's next attempt deletes it (when it has none left, only ReconcileDeletes' sweep does)`,
      );
    const code = (error as { code?: unknown }).code;
    return {
      results: [
        new ImageTally().result({
          source: `${ctx.source.host}/${spec.project}/${spec.repository}@${spec.digest}`,
          destination: `${ctx.destination.host}/${spec.namespace}/${spec.repository}`,
          status: 'failed',
          reason: `deleted in Harbor while it was being synced, and deleting what this job wrote failed: ${message}`,
          ...(typeof code === 'string' ? { errorCode: code } : {}),
          undoPending: true,
        }),
      ],
    };
  }
}
