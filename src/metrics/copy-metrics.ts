// Owns turning the copy engine's events into image, blob and byte counters and the image copy histogram.
import type { CopyEvents, ImageResult } from '../copy/index.js';
import type { ServiceMetrics } from './service-metrics.js';

export function countCopies(events: CopyEvents, metrics: ServiceMetrics): void {
  const image = (outcome: 'synced' | 'skipped' | 'failed') => (result: ImageResult) => {
    // A dry run writes nothing: counting its plans as skipped images would hide real skips among them.
    if ((result as { dryRun?: boolean }).dryRun) return;
    metrics.images.inc({ outcome });
    metrics.imageCopySeconds.observe({ outcome }, result.durationMs / 1000);
    if (outcome === 'synced' && result.converted) metrics.imagesConverted.inc();
  };
  events.on('image-done', image('synced'));
  events.on('image-skipped', image('skipped'));
  events.on('image-failed', image('failed'));
  // Counted per blob as it lands rather than from image results, so that bytes moved by an image that
  // fails later are not lost to the counters.
  events.on('blob', ({ action, size }) => {
    metrics.blobs.inc({ action });
    if (action === 'uploaded') metrics.bytesCopied.inc(size);
  });
}
