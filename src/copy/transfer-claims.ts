// Single flight across processes: when several replicas copy images that share a blob at the same moment,
// one uploads it and the others wait, then mount it. Within a process SingleFlight does this already; this
// is the optional shared part, implemented where the replicas meet (Redis).

export interface TransferClaim {
  release(): Promise<void>;
}

export interface TransferClaims {
  /** The right to upload `digest` to `registry` now; undefined while another process holds it. */
  claim(registry: string, digest: string): Promise<TransferClaim | undefined>;
  /** Whether some process still holds that right (it ends when its holder finishes or dies). */
  held(registry: string, digest: string): Promise<boolean>;
}
