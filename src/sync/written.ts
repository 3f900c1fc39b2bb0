// Keeps the record of what the service wrote at the destination (jobs/written-tags.ts) up to date after each
// tag a sync leaves there, and writes the "deleted" line a deletion leaves in <project>-success.log.
import type { ImageResult } from '../copy/index.js';
import type { ProjectLogs } from '../logging/logs.js';
import type { SyncContext } from './context.js';

/** Whether the destination now holds what the service puts there for this result: what recordWritten records. */
export function leftAsWritten(result: ImageResult): result is ImageResult & { destinationDigest: string } {
  if (result.dryRun || !result.destinationDigest) return false;
  return (
    result.status === 'copied' ||
    (result.status === 'skipped' && (result.skip === 'same-digest' || result.skip === 'same-converted'))
  );
}

/**
 * Records a tag the sync wrote, or found already at the digest it would have written (`same-digest`, or the
 * Docker conversion's digest): in both cases the destination holds exactly what the service puts there, and
 * images synced before the record existed become deletable at their next sync or sweep. A tag left as it was
 * (another image, overwrite off), a dry run or a failure records nothing. A record that cannot be written is
 * warned about and the copy stands: the tag is then only never deleted, the safe side.
 */
export async function recordWritten(
  ctx: SyncContext,
  written: { project: string; namespace: string; repository: string; tag: string; sourceDigest: string },
  result: ImageResult,
): Promise<void> {
  if (!ctx.written || !leftAsWritten(result)) return;
  const repository = `${written.namespace}/${written.repository}`;
  try {
    await ctx.written.record({
      destination: ctx.destination.host,
      repository,
      tag: written.tag,
      digest: result.destinationDigest,
      sourceDigest: written.sourceDigest,
      project: written.project,
    });
  } catch (error) {
    ctx
      .logs(written.project)
      .running.warn(
        `could not record ${ctx.destination.host}/${repository}:${written.tag} as written by this service (${(error as Error).message}); deletions will leave it alone`,
      );
  }
}

/** The success.log line of a deleted tag: as a synced image's line (source -> destination digest), marked. */
export function logDeleted(logs: ProjectLogs, source: string, destination: string, digest: string): void {
  logs.success.info(`deleted ${source} -> ${destination} ${digest}`);
  logs.running.info(`deleted ${destination} (${digest}): ${source} was deleted in Harbor`);
}
