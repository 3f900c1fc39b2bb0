// Copy options and their defaults: what gets copied, and how hard the engine may push each registry.

export interface CopyOptions {
  /** Replace a destination tag that points at a different digest (the old tool's ImageOverwrite). */
  overwrite: boolean;
  /** Copy only these platforms (`os/arch[/variant]`); empty means every platform of an index. */
  platforms: string[];
  /** Also copy signatures, SBOMs and other artifacts that refer to the copied manifests. */
  referrers: boolean;
  /** Images copied at the same time by bulk copies. */
  maxImagesInFlight: number;
  /** Blob transfers at the same time per registry host (SWR accepts at most 20 concurrent layer pushes per tenant). */
  maxBlobTransfersPerRegistry: number;
  /** Chunk size when a registry refuses a single-request upload and a registry sends no OCI-Chunk-Min-Length. */
  chunkSize: number;
  /** Whole-blob restarts after a failure that the transport could not absorb (a dropped streaming upload). */
  blobRetries: number;
  /**
   * `auto`: push as is, convert OCI to Docker formats when the destination refuses OCI; `preserve`: never
   * convert; `docker`: always convert. Conversion changes manifest digests.
   */
  manifestFormat: 'auto' | 'preserve' | 'docker';
}

export const DEFAULT_COPY_OPTIONS: CopyOptions = {
  overwrite: false,
  platforms: [],
  referrers: false,
  maxImagesInFlight: 8,
  maxBlobTransfersPerRegistry: 8,
  chunkSize: 16 * 1024 * 1024,
  blobRetries: 3,
  manifestFormat: 'auto',
};

export function withDefaults(options: Partial<CopyOptions> = {}): CopyOptions {
  const merged = { ...DEFAULT_COPY_OPTIONS, ...stripUndefined(options) };
  for (const key of ['maxImagesInFlight', 'maxBlobTransfersPerRegistry', 'chunkSize'] as const) {
    if (!Number.isInteger(merged[key]) || merged[key] < 1)
      throw new Error(`copy option ${key} must be a whole number of at least 1, got ${merged[key]}`);
  }
  if (!Number.isInteger(merged.blobRetries) || merged.blobRetries < 0)
    throw new Error(`copy option blobRetries must be a whole number of at least 0, got ${merged.blobRetries}`);
  return merged;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
