// CopyEngine: the entry point for copying images between registries, with shared limits, events and the
// destination location index. Knows registries and images, nothing of HTTP routes, Harbor or SWR.
import pLimit from 'p-limit';
import type { BandwidthLimiter } from './bandwidth.js';
import { EngineContext, RunState } from './context.js';
import { copyImage, type DestinationImage, type SourceImage } from './copy-image.js';
import { CopyEvents } from './events.js';
import { MemoryLocationIndex, type LocationIndex } from './location-index.js';
import type { SharedSlots } from './shared-slots.js';
import type { TransferClaims } from './transfer-claims.js';
import { withDefaults, type CopyOptions } from './options.js';
import type { ImageResult } from './results.js';

export interface ImagePair {
  source: SourceImage;
  destination: DestinationImage;
}

export class CopyEngine {
  readonly events = new CopyEvents();
  readonly options: CopyOptions;
  private readonly context: EngineContext;
  private readonly images: ReturnType<typeof pLimit>;

  /**
   * `claims` and `sharedSlots` come from where replicas meet (Redis), when there are several; `bandwidth` is the
   * cap every transfer of the engine draws from (one per process, or one shared by the replicas).
   */
  constructor(
    options: Partial<CopyOptions> = {},
    index: LocationIndex = new MemoryLocationIndex(),
    shared: { claims?: TransferClaims; slots?: SharedSlots; bandwidth?: BandwidthLimiter } = {},
  ) {
    this.options = withDefaults(options);
    this.context = new EngineContext(this.options, index, this.events, shared.claims, shared.slots, shared.bandwidth);
    this.images = pLimit(this.options.maxImagesInFlight);
  }

  /** Copies one image. `run` shares destination knowledge between images of the same batch. */
  copyImage(source: SourceImage, destination: DestinationImage, run: RunState = new RunState()): Promise<ImageResult> {
    return copyImage(this.context, run, source, destination);
  }

  /** Copies many images, at most `maxImagesInFlight` at once; one failure does not stop the others. */
  copyImages(pairs: Iterable<ImagePair>, run: RunState = new RunState()): Promise<ImageResult[]> {
    return Promise.all([...pairs].map((pair) => this.copyInFlight(pair, run)));
  }

  /** Queues one image behind the engine-wide images-in-flight limit. */
  copyInFlight(pair: ImagePair, run: RunState): Promise<ImageResult> {
    return this.images(() => copyImage(this.context, run, pair.source, pair.destination));
  }
}
