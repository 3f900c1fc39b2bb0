// What every part of one engine shares: options, the location index, events, per-host transfer slots,
// per-blob single flight, the retry policy of whole blob uploads, the bandwidth cap and the clock; plus the per-run state (the
// cache of destination repositories, and the signal that stops the run).
import pLimit, { type LimitFunction } from 'p-limit';
import { HttpRetryPolicy, systemClock, type CallOptions, type Clock, type RegistryClient } from '../oci/index.js';
import type { BandwidthLimiter } from './bandwidth.js';
import type { CopyEvents } from './events.js';
import type { LocationIndex } from './location-index.js';
import type { SharedSlots } from './shared-slots.js';
import type { TransferClaims } from './transfer-claims.js';
import type { CopyOptions } from './options.js';
import { SingleFlight } from './single-flight.js';

export interface RepositoryRef {
  client: RegistryClient;
  repository: string;
}

export class EngineContext {
  readonly blobFlights = new SingleFlight();
  /** Destination hosts that refused OCI manifests: images to them are converted from the start. */
  readonly dockerOnly = new Set<string>();
  /** Whole-blob restarts after a failure the transport could not absorb, with the default backoff. */
  readonly blobRetryPolicy: HttpRetryPolicy;
  readonly clock: Clock = systemClock;
  private readonly slots = new Map<string, LimitFunction>();

  constructor(
    readonly options: CopyOptions,
    readonly index: LocationIndex,
    readonly events: CopyEvents,
    /** Shared with other processes copying to the same registries, when there are any. */
    readonly claims?: TransferClaims,
    readonly sharedSlots?: SharedSlots,
    /** MaxBandwidth: every blob streamed from source to destination draws from it. */
    readonly bandwidth?: BandwidthLimiter,
  ) {
    this.blobRetryPolicy = new HttpRetryPolicy({ retries: options.blobRetries });
  }

  /**
   * Runs a transfer holding a slot on the destination host and then on the source host. Always in that
   * order, so two transfers can never hold each other's second slot.
   */
  withTransferSlots<T>(source: RegistryClient, destination: RegistryClient, work: () => Promise<T>): Promise<T> {
    const dst = this.slotsFor(destination.host);
    const shared = this.sharedSlots ? this.holdingShared(destination.host, source.host, work) : work;
    if (source.host === destination.host) return dst(shared);
    const src = this.slotsFor(source.host);
    return dst(() => src(shared));
  }

  /** The same two slots, in the same order, from the cap all replicas share. */
  private holdingShared<T>(destination: string, source: string, work: () => Promise<T>): () => Promise<T> {
    const limit = this.options.maxBlobTransfersPerRegistry;
    return async () => {
      const releaseDst = await this.sharedSlots!.acquire(destination, limit);
      try {
        if (source === destination) return await work();
        const releaseSrc = await this.sharedSlots!.acquire(source, limit);
        try {
          return await work();
        } finally {
          await releaseSrc();
        }
      } finally {
        await releaseDst();
      }
    };
  }

  private slotsFor(host: string): LimitFunction {
    let limit = this.slots.get(host);
    if (!limit) {
      limit = pLimit(this.options.maxBlobTransfersPerRegistry);
      this.slots.set(host, limit);
    }
    return limit;
  }
}

/**
 * One run (a job, a command) of the engine: the signal that stops all of its requests and waits, and the
 * destination repository state learnt once: its tags, and whether it existed at all. A repository absent or
 * without tags when the run started holds, as far as a copy can use, only blobs this engine put there, which
 * the location index knows, so nothing in it needs an existence check.
 */
export class RunState {
  private readonly tags = new Map<string, Promise<Set<string> | undefined>>();

  /** `signal` stops this run's copies: each image still running or queued fails with the signal's reason. */
  constructor(readonly signal?: AbortSignal) {}

  destinationTags(ref: RepositoryRef, call: CallOptions = { signal: this.signal }): Promise<Set<string> | undefined> {
    const key = `${ref.client.host}/${ref.repository}`;
    let known = this.tags.get(key);
    if (!known) {
      known = ref.client.listTags(ref.repository, call).then((t) => (t === undefined ? undefined : new Set(t)));
      known.catch(() => this.tags.delete(key));
      this.tags.set(key, known);
    }
    return known;
  }

  async repositoryAbsent(ref: RepositoryRef): Promise<boolean> {
    try {
      return (await this.destinationTags(ref)) === undefined;
    } catch {
      return false;
    }
  }

  /**
   * Absent, or listed with no tags (SWR lists a missing repository as `tags: null`): no image of it can spare
   * an upload, so its blobs are uploaded without asking first (a registry accepts a blob it already has).
   */
  async repositoryEmpty(ref: RepositoryRef): Promise<boolean> {
    try {
      return ((await this.destinationTags(ref))?.size ?? 0) === 0;
    } catch {
      return false;
    }
  }
}
