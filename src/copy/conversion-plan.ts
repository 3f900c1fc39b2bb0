// Plans the conversion of a whole image graph to Docker formats before anything is pushed, so that the
// destination digest is known up front (to compare with what the destination has) and each child's new
// digest is ready for its parent list.
import { isIndexType, type CallOptions, type Descriptor, type FetchedManifest, type ImageIndex } from '../oci/index.js';
import type { RepositoryRef } from './context.js';
import { toDockerImage, toDockerList } from './convert.js';
import { ManifestBudget } from './manifest-budget.js';

export interface ConversionPlan {
  /** Source digest -> the manifest to push instead. */
  manifests: Map<string, FetchedManifest>;
  /** Source digest -> the source manifest, fetched while planning, so the copy need not fetch it again. */
  originals: Map<string, FetchedManifest>;
}

export async function planConversion(
  source: RepositoryRef,
  top: FetchedManifest,
  call: CallOptions,
  budget = new ManifestBudget(),
): Promise<ConversionPlan> {
  const plan: ConversionPlan = { manifests: new Map(), originals: new Map() };
  await convertNode(source, top, plan, call, budget, 0);
  return plan;
}

async function convertNode(
  source: RepositoryRef,
  manifest: FetchedManifest,
  plan: ConversionPlan,
  call: CallOptions,
  budget: ManifestBudget,
  depth: number,
): Promise<Descriptor> {
  plan.originals.set(manifest.digest, manifest);
  let converted: FetchedManifest;
  if (isIndexType(manifest.mediaType)) {
    const children = new Map<string, Descriptor>();
    for (const child of (manifest.parsed as ImageIndex).manifests) {
      // A child named again (here or under another index) is converted once.
      const done = plan.manifests.get(child.digest);
      if (done) {
        children.set(child.digest, { mediaType: done.mediaType, digest: done.digest, size: done.bytes.length });
        continue;
      }
      const fetched =
        plan.originals.get(child.digest) ??
        (await budget.fetch(source, depth + 1, child.digest, () =>
          source.client.getManifest(source.repository, child.digest, call),
        ));
      children.set(child.digest, await convertNode(source, fetched, plan, call, budget, depth + 1));
    }
    converted = toDockerList(manifest, children);
  } else {
    converted = toDockerImage(manifest);
  }
  plan.manifests.set(manifest.digest, converted);
  return { mediaType: converted.mediaType, digest: converted.digest, size: converted.bytes.length };
}

export function convertedDigest(plan: ConversionPlan, top: FetchedManifest): string {
  return plan.manifests.get(top.digest)?.digest ?? top.digest;
}
