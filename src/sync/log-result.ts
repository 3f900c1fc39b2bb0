// One line per image in <project>-running.log, and in <project>-success.log when this sync wrote it (copied, or a
// tag replaced): the old tool's success log lists images synced, so images found already there stay out of it.
import { ImageTally, type ImageResult } from '../copy/index.js';
import type { ProjectLogs } from '../logging/logs.js';
import { explainRegistryFailure } from '../swr/errors.js';

export function logResult(logs: ProjectLogs, result: ImageResult): void {
  const summary = `${result.source} -> ${result.destination} ${result.destinationDigest ?? ''}`.trim();
  if (result.status === 'failed') {
    logs.running.error(`failed ${summary}: ${result.reason}`);
    return;
  }
  logs.running.info(
    `${result.status} ${summary}${result.reason ? ` (${result.reason})` : ''}: ${result.blobsUploaded} blobs uploaded, ${result.blobsMounted} mounted, ${result.blobsSkipped} skipped, ${result.bytesUploaded} bytes, ${result.retries} retries, ${result.durationMs} ms`,
  );
  for (const note of result.notes ?? []) logs.running.info(`${result.source}: ${note}`);
  if (result.status === 'copied' && !result.dryRun) {
    const conversion = result.converted ? ` (converted to Docker format; source digest ${result.sourceDigest})` : '';
    logs.success.info(`${result.source} -> ${result.destination} ${result.destinationDigest}${conversion}`);
  }
}

/** A failed image's reason with what to do about SWR's own messages added; `keyPrefix` the destination's (`dr_`). */
export function explained(result: ImageResult, namespace: string, keyPrefix = ''): ImageResult {
  return result.status === 'failed' && result.reason
    ? { ...result, reason: explainRegistryFailure(result.reason, namespace, keyPrefix) }
    : result;
}

/** A result for an image that was not attempted because its destination name breaks SWR's rules. */
export function refusedName(source: string, destination: string, problem: string): ImageResult {
  return new ImageTally().result({
    source,
    destination,
    status: 'failed',
    reason: `destination repository name ${problem}: rename the repository in Harbor, or map the project to another namespace in NamespaceMap`,
    errorCode: 'NAME_INVALID',
  });
}

/**
 * A job that failed as a whole (Harbor not answering, a namespace that cannot be made), in <project>-running.log
 * where the old tool told users to look: an error, or a warning when the job was stopped.
 */
export function logWholeFailure(logs: ProjectLogs, what: string, stopped: boolean, error: unknown): void {
  if (stopped) logs.running.warn(`${what} stopped: ${(error as Error).message}`);
  else logs.running.error(`${what} failed: ${(error as Error).message}`);
}
