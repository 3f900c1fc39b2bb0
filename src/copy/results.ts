// What one image copy did: digests, bytes and blobs moved, retries and time, for logs, job records and summaries.
import type { CallOptions } from '../oci/index.js';

/** `deleted`: a delete job removed the tag at the destination (the job's results are per tag too). */
export type ImageStatus = 'copied' | 'skipped' | 'failed' | 'deleted';

/**
 * Why an image was skipped, for code to decide on (`reason` says it in words): the destination has this digest,
 * or the Docker conversion of it; its tag points elsewhere and overwrite is off; a dry run planned a copy; or a
 * replication filter of the caller's left the image out.
 */
export type SkipReason = 'same-digest' | 'same-converted' | 'overwrite-off' | 'planned' | 'planned-delete' | 'filtered';

export interface ImageResult {
  source: string;
  destination: string;
  status: ImageStatus;
  /** Why an image was skipped or failed, in words a user can act on. */
  reason?: string;
  /** Set on skipped images: why, as a value (a dry run keeps the reason it would have skipped for). */
  skip?: SkipReason;
  /** Registry error code of a failure, when there is one. */
  errorCode?: string;
  sourceDigest?: string;
  destinationDigest?: string;
  mediaType?: string;
  platforms: string[];
  bytesUploaded: number;
  blobsUploaded: number;
  blobsMounted: number;
  blobsSkipped: number;
  manifestsPushed: number;
  referrersCopied: number;
  retries: number;
  durationMs: number;
  /** Pushed in Docker formats instead of the source's OCI ones: the destination digest differs from the source's. */
  converted?: boolean;
  /** Only planned (a dry run): nothing was written, `reason` says what a copy would do. */
  dryRun?: boolean;
  /** Things worth knowing that did not fail the image (referrers not copied, and why). */
  notes?: string[];
  /**
   * Set on the failure to delete what an image job wrote after Harbor deleted the image during the copy: the
   * job's next attempt deletes it (sync/deleted-meanwhile.ts), as no delete event will.
   */
  undoPending?: boolean;
}

/** Running tally for one image; blob work shared between images is credited to the image that did it. */
export class ImageTally {
  bytesUploaded = 0;
  blobsUploaded = 0;
  blobsMounted = 0;
  blobsSkipped = 0;
  manifestsPushed = 0;
  referrersCopied = 0;
  readonly counters = { retries: 0 };
  /** What every registry call of this image carries: its retry counter and the run's cancellation signal. */
  readonly call: CallOptions;
  readonly platforms = new Set<string>();
  readonly notes: string[] = [];
  readonly started = Date.now();

  constructor(signal?: AbortSignal) {
    this.call = { counters: this.counters, signal };
  }

  result(fields: Pick<ImageResult, 'source' | 'destination' | 'status'> & Partial<ImageResult>): ImageResult {
    return {
      platforms: [...this.platforms],
      bytesUploaded: this.bytesUploaded,
      blobsUploaded: this.blobsUploaded,
      blobsMounted: this.blobsMounted,
      blobsSkipped: this.blobsSkipped,
      manifestsPushed: this.manifestsPushed,
      referrersCopied: this.referrersCopied,
      retries: this.counters.retries,
      durationMs: Date.now() - this.started,
      ...(this.notes.length > 0 ? { notes: [...this.notes] } : {}),
      ...fields,
    };
  }
}
