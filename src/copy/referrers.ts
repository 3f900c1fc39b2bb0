// Copies the artifacts that refer to a copied image (signatures, SBOMs, attestations): through the referrers
// API when the source has it, else through the `sha256-<hex>` fallback tag that cosign and oras maintain.
import {
  digestOf,
  isIndexType,
  OCI_INDEX,
  referrersTag,
  type Descriptor,
  type FetchedManifest,
  type ImageIndex,
} from '../oci/index.js';
import type { EngineContext } from './context.js';
import { copyManifestTree, type TreeCopy } from './manifest-tree.js';

export async function copyReferrers(ctx: EngineContext, job: TreeCopy, top: FetchedManifest): Promise<void> {
  const subjects = [top.digest];
  if (isIndexType(top.mediaType)) subjects.push(...(top.parsed as ImageIndex).manifests.map((m) => m.digest));
  for (const subject of subjects) await copyReferrersOf(ctx, job, subject);
}

async function copyReferrersOf(ctx: EngineContext, job: TreeCopy, subject: string): Promise<void> {
  const { source: src, tally } = job;
  const found = await src.client.listReferrers(src.repository, subject, tally.call);
  if (found.source === 'none' || found.descriptors.length === 0) return;
  if (found.source === 'tag') {
    // The fallback tag is itself an index of the referrers: copying it as a tree copies them all.
    const fallback = await job.budget.fetch(src, 1, referrersTag(subject), () =>
      src.client.getManifest(src.repository, referrersTag(subject), tally.call),
    );
    await copyManifestTree(ctx, job, fallback, referrersTag(subject), 1);
    tally.referrersCopied += found.descriptors.length;
    return;
  }
  for (const descriptor of found.descriptors) {
    const manifest = await job.budget.fetch(src, 1, descriptor.digest, () =>
      src.client.getManifest(src.repository, descriptor.digest, tally.call),
    );
    await copyManifestTree(ctx, job, manifest, undefined, 1);
    tally.referrersCopied++;
  }
  await updateFallbackTag(job, subject, found.descriptors);
}

/**
 * A destination without the referrers API only finds referrers through the fallback tag, so merge what we
 * copied into it. Registries with the API answer 200 on the referrers endpoint and need no tag.
 */
async function updateFallbackTag(job: TreeCopy, subject: string, added: Descriptor[]): Promise<void> {
  const { destination: dst, tally } = job;
  const onDestination = await dst.client.listReferrers(dst.repository, subject, tally.call);
  if (onDestination.source === 'api') return;
  const known = new Set(onDestination.descriptors.map((d) => d.digest));
  const merged = [...onDestination.descriptors, ...added.filter((d) => !known.has(d.digest))];
  if (merged.length === onDestination.descriptors.length) return;
  const index: ImageIndex = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: merged };
  const bytes = Buffer.from(JSON.stringify(index));
  await dst.client.putManifest(
    dst.repository,
    referrersTag(subject),
    { mediaType: OCI_INDEX, bytes, digest: digestOf(bytes) },
    tally.call,
  );
}
