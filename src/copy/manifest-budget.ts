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
  /** Each manifest fetched once per image, however many walks ask (conversion plan, copy, a retry, referrers). */
  private readonly fetched = new Map<string, Promise<FetchedManifest>>();

  constructor(private readonly limits: typeof MANIFEST_LIMITS = MANIFEST_LIMITS) {
    this.slots = pLimit(limits.concurrency);
  }

  /**
   * The child manifest `reference` (a digest, or the referrers fallback tag) at `depth`, fetched through `load`
   * the first time it is asked for and counted then; throws once a limit is passed.
   */
  fetch(
    source: RepositoryRef,
    depth: number,
    reference: string,
    load: () => Promise<FetchedManifest>,
  ): Promise<FetchedManifest> {
    const known = this.fetched.get(reference);
    if (known) return known;
    if (depth > this.limits.depth)
      return Promise.reject(this.exceeded(source, `indexes nest more than ${this.limits.depth} deep`));
    if (this.count >= this.limits.manifests)
      return Promise.reject(this.exceeded(source, `it refers to more than ${this.limits.manifests} manifests`));
    this.count++;
    const fetching = this.slots(load).then((fetched) => {
      this.bytes += fetched.bytes.length;
      if (this.bytes > this.limits.bytes)
        throw this.exceeded(source, `its manifests come to more than ${this.limits.bytes / 1024 / 1024} MiB`);
      return fetched;
    });
    this.fetched.set(reference, fetching);
    // A failed fetch (the network) may be asked again by a retry.
    fetching.catch(() => this.fetched.delete(reference));
    return fetching;
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
