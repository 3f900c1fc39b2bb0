// The OCI Distribution client: talks to any registry over HTTP (auth, manifests, blobs, listings).
// It knows nothing of Harbor, SWR or copying; those build on top of it.
export * from './types.js';
export * from './media-types.js';
export * from './errors.js';
export * from './digest.js';
export * from './reference.js';
export {
  RegistryClient,
  TOKEN_BATCH,
  type RegistryClientOptions,
  type Counters,
  type CallOptions,
} from './registry-client.js';
export type { Credentials, CredentialProvider, CredentialSource } from './auth.js';
export type { UploadStart, MountRequest } from './upload.js';
export type { ManifestHead } from './manifests.js';
export type { RequestPacer } from './rate-limit.js';
export {
  referrersTag,
  MAX_LISTED_NAMES,
  MAX_LISTED_PAGES,
  type Referrers,
  type InvalidNameHandler,
} from './listing.js';
export { parseHostList, hostEntryProblem } from './origin.js';
export { peerText } from './peer-text.js';
export { abortReason, systemClock, type Clock } from './clock.js';
export {
  HttpRetryPolicy,
  isCancellation,
  type HttpOutcome,
  type RetryDecision,
  type RetryOptions,
  type RetryPolicy,
} from './retry.js';
export { serviceVersion, userAgent } from './user-agent.js';
export type { ProtocolSetting } from './protocol-mismatch.js';
export {
  ProxyRoutes,
  DIRECT,
  parseProxyUrl,
  proxySecrets,
  shownProxy,
  type ProxyRoute,
  type ProxySettings,
  type ProxySource,
} from './proxy.js';
export { ProxyError, proxyFailureOf } from './proxy-error.js';
export { connectionPool, type PoolOptions } from './proxy-pool.js';
