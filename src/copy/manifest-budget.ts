// Owns what one image's graph walk may fetch of a source's manifests. An index names children and may name
// indexes, so anyone who can push to a synced project could make a walk of 20,000 children at each of several
// levels, each child up to 4 MiB and fetched at once. Real images have a few dozen manifests of a few KiB
// (platforms and their attestations), two levels deep; the limits below are far above that and far below harm.
import pLimit, { type LimitFunction } from 'p-limit';
import { RegistryError, type FetchedManifest } from '../oci/index.js';
import type { RepositoryRef } from './context.js';

export const MANIFEST_LIMITS = {
  /** An index under an index under ...: the top manifest is depth 0. */
  depth: 4,
  /** Child manifests fetched for one image (the conversion plan and referrers included). */
  manifests: 512,
  /** Their bytes, all held at once in the worst case. */
  bytes: 64 * 1024 * 1024,
  /** Child manifest fetches in flight at once. */
  concurrency: 8,
} as const;

export class ManifestBudget {
  private count = 0;
  private bytes = 0;
  private readonly slots: LimitFunction;

  constructor(private readonly limits: typeof MANIFEST_LIMITS = MANIFEST_LIMITS) {
    this.slots = pLimit(limits.concurrency);
  }

  /** Fetches a child manifest at `depth` through `load`, within the limits; throws once a limit is passed. */
  async fetch(source: RepositoryRef, depth: number, load: () => Promise<FetchedManifest>): Promise<FetchedManifest> {
    if (depth > this.limits.depth) throw this.exceeded(source, `indexes nest more than ${this.limits.depth} deep`);
    if (this.count >= this.limits.manifests)
      throw this.exceeded(source, `it refers to more than ${this.limits.manifests} manifests`);
    this.count++;
    const fetched = await this.slots(load);
    this.bytes += fetched.bytes.length;
    if (this.bytes > this.limits.bytes)
      throw this.exceeded(source, `its manifests come to more than ${this.limits.bytes / 1024 / 1024} MiB`);
    return fetched;
  }

  private exceeded(source: RepositoryRef, what: string): RegistryError {
    return new RegistryError({
      code: 'MANIFEST_TREE_TOO_LARGE',
      status: 0,
      host: source.client.host,
      repository: source.repository,
      message: `the image in ${source.client.host}/${source.repository} is not copied: ${what}`,
      hint: 'no real image is built like this; check what was pushed there',
    });
  }
}
