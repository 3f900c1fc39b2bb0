// Owns pushing a scenario's synthetic project into the source registry and recording what a
// faithful copy must reproduce: every tag's digest and the set of unique blobs.
import { pushImage, pushIndex, type Descriptor, type RegistryAccess } from '../tests/harness/images.js';
import type { Scenario } from './scenarios.js';

export interface ExpectedProject {
  prefix: string;
  /** repository -> tag -> manifest digest at the source. */
  tags: Map<string, Map<string, string>>;
  uniqueBlobs: number;
  uniqueBlobBytes: number;
}

export async function buildProject(source: RegistryAccess, s: Scenario): Promise<ExpectedProject> {
  const blobs = new Map<string, number>();
  const note = (d: Descriptor): void => void blobs.set(d.digest, d.size);
  const tags = new Map<string, Map<string, string>>();
  for (const repo of s.repos) {
    const byTag = new Map<string, string>();
    tags.set(repo.name, byTag);
    for (const plan of repo.tags) {
      if (plan.images.length === 1) {
        const image = plan.images[0];
        const pushed = await pushImage(source, repo.name, plan.tag, { format: plan.format, ...image });
        [pushed.config, ...pushed.layers].forEach(note);
        byTag.set(plan.tag, pushed.digest);
        continue;
      }
      const pushed = await pushIndex(source, repo.name, plan.tag, { format: plan.format, images: plan.images });
      byTag.set(plan.tag, pushed.digest);
      for (const child of pushed.images) [child.config, ...child.layers].forEach(note);
    }
  }
  let uniqueBlobBytes = 0;
  for (const size of blobs.values()) uniqueBlobBytes += size;
  return { prefix: s.prefix, tags, uniqueBlobs: blobs.size, uniqueBlobBytes };
}
