// The graph walk: copies everything a manifest refers to (child manifests, config, layers) before the manifest
// itself, because a registry refuses, or worse half-accepts, a manifest whose blobs it does not have yet.
import {
  hasCode,
  isIndexType,
  platformString,
  type Descriptor,
  type FetchedManifest,
  type ImageIndex,
  type ImageManifest,
} from '../oci/index.js';
import { DOCKER_LAYER_FOREIGN } from '../oci/media-types.js';
import { copyBlob } from './blob-copier.js';
import type { EngineContext, RepositoryRef } from './context.js';
import type { ConversionPlan } from './conversion-plan.js';
import type { ManifestBudget } from './manifest-budget.js';
import type { ImageTally } from './results.js';

export interface TreeCopy {
  source: RepositoryRef;
  destination: RepositoryRef;
  tally: ImageTally;
  /** The destination repository held no image when the run started (see `RunState.repositoryEmpty`). */
  destinationEmpty: boolean;
  /** Manifests to push in another format, by their source digest (see convert.ts). */
  conversion?: ConversionPlan;
  /** What the walk may fetch of the source's manifests for this image. */
  budget: ManifestBudget;
}

/** One walk from a top manifest: each child manifest named more than once is copied once. */
type Walked = Map<string, Promise<void>>;

/**
 * Copies what `manifest` refers to, then pushes it (converted when the plan says so) as `reference`, or by
 * its own digest when no reference is given. Returns what was pushed.
 */
export async function copyManifestTree(
  ctx: EngineContext,
  job: TreeCopy,
  manifest: FetchedManifest,
  reference?: string,
  depth = 0,
  walked: Walked = new Map(),
): Promise<FetchedManifest> {
  await copyChildren(ctx, job, manifest, false, depth, walked);
  const dst = job.destination;
  const pushed = job.conversion?.manifests.get(manifest.digest) ?? manifest;
  reference ??= pushed.digest;
  try {
    await dst.client.putManifest(dst.repository, reference, pushed, job.tally.call);
  } catch (error) {
    if (!hasCode(error, 'MANIFEST_BLOB_UNKNOWN', 'BLOB_UNKNOWN', 'MANIFEST_UNKNOWN')) throw error;
    // The registry lost something we believed was there (a stale index entry, a garbage-collected blob, an
    // interrupted earlier copy): check every child against the registry itself and try once more.
    job.tally.counters.retries++;
    ctx.events.emit('retry', {
      destination: `${dst.client.host}/${dst.repository}`,
      what: `manifest ${manifest.digest}`,
      reason: error.message,
    });
    await copyChildren(ctx, job, manifest, true, depth, new Map());
    await dst.client.putManifest(dst.repository, reference, pushed, job.tally.call);
  }
  job.tally.manifestsPushed++;
  return pushed;
}

async function copyChildren(
  ctx: EngineContext,
  job: TreeCopy,
  manifest: FetchedManifest,
  distrust: boolean,
  depth: number,
  walked: Walked,
): Promise<void> {
  if (isIndexType(manifest.mediaType)) {
    const index = manifest.parsed as ImageIndex;
    await Promise.all(
      index.manifests.map((child) => {
        let copy = walked.get(child.digest);
        if (!copy) {
          copy = copyChildManifest(ctx, job, child, distrust, depth + 1, walked);
          walked.set(child.digest, copy);
        }
        return copy;
      }),
    );
    return;
  }
  const image = manifest.parsed as ImageManifest;
  const blobs = [image.config, ...(image.layers ?? [])].filter(isDistributable);
  await Promise.all(blobs.map((blob) => copyBlob(ctx, { ...job, blob, distrustIndex: distrust })));
}

async function copyChildManifest(
  ctx: EngineContext,
  job: TreeCopy,
  child: Descriptor,
  distrust: boolean,
  depth: number,
  walked: Walked,
): Promise<void> {
  const dst = job.destination;
  if (child.platform) job.tally.platforms.add(platformString(child.platform));
  if (!job.destinationEmpty || distrust) {
    // A manifest the registry already has was only accepted with all its blobs: the whole subtree is there.
    const expected = job.conversion?.manifests.get(child.digest)?.digest ?? child.digest;
    const present = await dst.client.headManifest(dst.repository, expected, job.tally.call);
    if (present) return;
  }
  const fetched =
    job.conversion?.originals.get(child.digest) ??
    (await job.budget.fetch(job.source, depth, child.digest, () =>
      job.source.client.getManifest(job.source.repository, child.digest, job.tally.call),
    ));
  await copyManifestTree(ctx, job, fetched, undefined, depth, walked);
}

/** Foreign layers (Windows base layers) live outside the registry and are not to be copied. */
function isDistributable(blob: Descriptor): boolean {
  return !(blob.mediaType === DOCKER_LAYER_FOREIGN || (blob.urls && blob.urls.length > 0));
}
