// One job's view of a destination namespace from SWR's management listings: the namespace's repositories and
// tag names read once per job, each repository's tag digests read once, and a RunState that answers the
// engine's "which tags does this repository have" from that listing instead of a tags/list per repository.
// Every answer is `undefined` when there is no listing (a generic registry, or the API refused): then the
// caller uses the registry API as before.
import { ImageTally, RunState, type ImageResult, type RepositoryRef } from '../copy/index.js';
import type { CallOptions, RegistryClient } from '../oci/index.js';
import type { DestinationListing } from '../swr/listing.js';

export class NamespaceState {
  private listed: Promise<Map<string, string[]> | undefined> | undefined;
  private readonly digests = new Map<string, Promise<Map<string, string> | undefined>>();

  constructor(
    private readonly listing: DestinationListing | undefined,
    readonly namespace: string,
  ) {}

  /** Repository (without the namespace) -> tag names; undefined without a listing. */
  repositories(): Promise<Map<string, string[]> | undefined> {
    this.listed ??= this.listing ? this.listing.repositories(this.namespace) : Promise.resolve(undefined);
    return this.listed;
  }

  /**
   * Tag -> digest of one repository. A repository the namespace listing does not hold has no tags, known
   * without asking; `listFirst: false` asks the repository directly (one image: one request, not two).
   */
  tagDigests(repository: string, listFirst = true): Promise<Map<string, string> | undefined> {
    let known = this.digests.get(repository);
    if (!known) {
      known = (async () => {
        if (!this.listing) return undefined;
        if (listFirst) {
          const repositories = await this.repositories();
          if (!repositories) return undefined;
          if (!repositories.get(repository)?.length) return new Map<string, string>();
        }
        return this.listing.tags(this.namespace, repository);
      })();
      this.digests.set(repository, known);
    }
    return known;
  }

  /** The tag digests already asked for, without asking. */
  digestsAsked(repository: string): Promise<Map<string, string> | undefined> | undefined {
    return this.digests.get(repository);
  }
}

/** The engine's run state with destination tags taken from the namespace listing when there is one. */
export class ListedRunState extends RunState {
  constructor(
    private readonly state: NamespaceState,
    private readonly destination: RegistryClient,
    signal?: AbortSignal,
  ) {
    super(signal);
  }

  override async destinationTags(ref: RepositoryRef, call?: CallOptions): Promise<Set<string> | undefined> {
    const prefix = `${this.state.namespace}/`;
    if (ref.client === this.destination && ref.repository.startsWith(prefix)) {
      const repository = ref.repository.slice(prefix.length);
      // Digests already read for this repository are the fresher answer; else the namespace listing.
      const digests = await this.state.digestsAsked(repository);
      if (digests) return digests.size > 0 ? new Set(digests.keys()) : undefined;
      const repositories = await this.state.repositories();
      if (repositories) {
        const tags = repositories.get(repository);
        // SWR answers `tags: null` for a missing repository: no tags and no repository are the same to the engine.
        return tags && tags.length > 0 ? new Set(tags) : undefined;
      }
    }
    return super.destinationTags(ref, call);
  }
}

/** The result of a tag the listing shows at the source's digest already: skipped without a registry request. */
export function listedSameDigest(source: string, destination: string, digest: string): ImageResult {
  return new ImageTally().result({
    source,
    destination,
    status: 'skipped',
    skip: 'same-digest',
    reason: 'destination already has this digest',
    sourceDigest: digest,
    destinationDigest: digest,
  });
}
