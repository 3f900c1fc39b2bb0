// Transfer slots shared with other processes: MaxBlobTransfers is a cap per registry, and with several
// replicas the cap must hold for all of them together, not for each. Optional; the in-process limit stays.

export interface SharedSlots {
  /** Waits for one of `limit` slots on `host`; resolves with its release. */
  acquire(host: string, limit: number): Promise<() => Promise<void>>;
}
