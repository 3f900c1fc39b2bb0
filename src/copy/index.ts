// The copy engine: walks image graphs and moves them between registries through the OCI client, with
// de-duplication, mounts, limits and progress events. Knows nothing of HTTP routes, Harbor or SWR.
export { CopyEngine, type ImagePair } from './engine.js';
export { RunState, type RepositoryRef } from './context.js';
export { describe, type SourceImage, type DestinationImage } from './copy-image.js';
export { CopyEvents, type CopyEventMap, type BlobAction } from './events.js';
export { MemoryLocationIndex, type LocationIndex } from './location-index.js';
export { DEFAULT_COPY_OPTIONS, withDefaults, type CopyOptions } from './options.js';
export { ImageTally, type ImageResult, type ImageStatus } from './results.js';
export { copyRepositories, repositoriesUnderPrefix, type RepositoryCopyPlan } from './copy-repositories.js';
export { parsePlatform } from './platform.js';
export { throttled, burstFor, type BandwidthLimiter, type BandwidthStats } from './bandwidth.js';
export { ByteBucket, bandwidthLimit } from './byte-bucket.js';
