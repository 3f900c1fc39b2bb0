// Owns what the copy commands and `sync` say of finished images: one line per image, and the closing summary
// that counts them, a dry run's planned copies apart from skips and tags left alone because they differ.
import type { ImageResult } from '../copy/index.js';
import { formatBytes } from './progress.js';
import { counted } from './words.js';

/** One line per image: `copied`, `skipped`, `failed`, or `plan` in a dry run, with its reason. */
export function imageLine(result: ImageResult): string {
  const verb = result.dryRun ? 'plan' : result.status;
  const reason = result.reason ? `: ${result.reason}` : '';
  const moved =
    result.status === 'copied'
      ? ` (${counted(result.blobsUploaded, 'blob')} uploaded, ${result.blobsMounted} mounted, ${result.blobsSkipped} present)`
      : '';
  return `${verb.padEnd(7)} ${result.destination}${moved}${reason}`;
}

/**
 * `overwrite` names what replaces a differing tag for this command (`--overwrite`), said when one was left
 * alone: skipping it keeps the exit code 0, so the summary is where the user learns of it.
 */
export function summarise(results: ImageResult[], seconds: number, overwrite: string): string {
  const count = (test: (r: ImageResult) => boolean) => results.filter(test).length;
  const sum = (field: 'bytesUploaded' | 'blobsUploaded' | 'blobsMounted' | 'blobsSkipped' | 'retries') =>
    results.reduce((a, r) => a + r[field], 0);
  const planned = count((r) => r.skip === 'planned');
  const deleting = count((r) => r.skip === 'planned-delete');
  const skipped = count((r) => r.status === 'skipped' && r.skip !== 'planned' && r.skip !== 'planned-delete');
  const differ = count((r) => r.skip === 'overwrite-off');
  const differs =
    differ > 0
      ? ` (${differ} ${differ === 1 ? 'differs' : 'differ'}: ${overwrite} replaces ${differ === 1 ? 'it' : 'them'})`
      : '';
  const dryRun = results.some((r) => r.dryRun);
  const head = `${dryRun ? `${planned} would be copied` : `${count((r) => r.status === 'copied')} copied`}, ${skipped} skipped${differs}, ${count((r) => r.status === 'failed')} failed of ${counted(results.length - deleting, 'image')}${deleting > 0 ? `; ${deleting} would be deleted` : ''}`;
  if (dryRun) return `${head}; ${seconds.toFixed(2)} s`;
  const bytes = sum('bytesUploaded');
  return (
    `${head}; ${formatBytes(bytes)} uploaded (${formatBytes(seconds > 0 ? bytes / seconds : 0)}/s), ` +
    `blobs ${sum('blobsUploaded')} uploaded, ${sum('blobsMounted')} mounted, ${sum('blobsSkipped')} skipped; ` +
    `${counted(sum('retries'), 'retry', 'retries')}; ${seconds.toFixed(2)} s`
  );
}
