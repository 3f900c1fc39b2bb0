// What a sync needs to run: the engine, Harbor (its API and its registry), the destination registry, where
// to log, and what stops it. Built once by the service; a manual call with its own credentials gets its own
// copy, and each job a shallow copy with its own logs and signal.
import type { CopyEngine, ImageResult } from '../copy/index.js';
import type { ProjectFilters } from '../filters/rules.js';
import type { SelectedSource } from '../harbor/selected-source.js';
import type { ProjectLogs } from '../logging/logs.js';
import type { RegistryClient } from '../oci/index.js';
import type { DestinationListing } from '../swr/listing.js';
import type { WrittenTags } from '../jobs/written-tags.js';

export interface SyncContext {
  engine: CopyEngine;
  /** Harbor's API (v2.0 or v1), or the registry's listings: whichever HarborAPI selects. */
  harbor: SelectedSource;
  /** Harbor's registry (`/v2/`), read with the Harbor credentials. */
  source: RegistryClient;
  /** The SWR registry (or any registry standing in for it), written with the Huawei credentials. */
  destination: RegistryClient;
  overwrite: boolean;
  /** app.conf's filter rules by Harbor project (a request's own come with its job spec). */
  filters?: ProjectFilters;
  /**
   * The destination's tags and digests from SWR's management API (SWR with management enabled); without it
   * the destination is compared through its registry API (tags/list and HEAD).
   */
  listing?: DestinationListing;
  logs(project: string): ProjectLogs;
  /** The record of tags the service wrote at its destinations; without it nothing is recorded or deleted. */
  written?: WrittenTags;
  /**
   * SyncDeletes: an image job asks Harbor again after writing, and deletes what it wrote when the image was
   * deleted meanwhile (the delete event came before there was a record of it).
   */
  deletesOnEvents?: boolean;
  /** ReconcileDeletes: dry runs list the written tags Harbor no longer has, which the sweep deletes. */
  deletesInSweep?: boolean;
  /**
   * Deletes one tag at the destination (SWR's management API). Without it a deletion goes through the
   * registry's manifest DELETE, which removes every tag on the digest.
   */
  deleteTag?(namespace: string, repository: string, tag: string): Promise<'deleted' | 'absent'>;
  /** How app.conf spells the destination's keys (`dr_` for a named one): advice in failures names them so. */
  keyPrefix?: string;
  /** Makes sure a destination namespace exists and is ours before the first push into it. */
  prepare?(namespace: string): Promise<void>;
  /**
   * Stops this job's registry requests and waits (set on the job's own copy of the context: a job timeout, a
   * lost lock, a stop past its grace period). Its images fail with the signal's reason; nothing else is
   * stopped, and no agent has to be destroyed for it.
   */
  signal?: AbortSignal;
}

/** What a job's sync made of it: the per-image results, or why there was nothing to do. */
export interface SyncOutcome {
  results: ImageResult[];
  /** Set when there was nothing to copy, and why. */
  skipped?: string;
}

export interface SyncProgress {
  onImage(done: number, total: number, bytesUploaded: number): void;
}
