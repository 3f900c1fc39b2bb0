// The record of what the service itself wrote at a destination: every (destination, repository, tag) it synced
// and the digest it left there. Deletions touch only these tags, so the record is kept apart from jobs and job
// retention never prunes it. Each backend keeps it in its own store (SQLite table, Redis hash per repository).

export interface WrittenTag {
  /** Destination registry host. */
  destination: string;
  /** Destination repository, with the namespace. */
  repository: string;
  tag: string;
  /** The digest the service left at the destination (the Docker conversion's when it converted). */
  digest: string;
  /** The source's digest, which Harbor's delete events name. */
  sourceDigest: string;
  /** The Harbor project it came from (two projects may share a namespace; the sweep compares each with its own). */
  project: string;
}

export interface WrittenTags {
  /** Records a tag as written (a later write of the same tag replaces it). */
  record(tag: WrittenTag): Promise<void>;
  /** The written tags of one repository whose source digest is `sourceDigest`. */
  bySource(destination: string, repository: string, sourceDigest: string): Promise<WrittenTag[]>;
  /** Every written tag under a namespace (the sweep compares them with Harbor). */
  inNamespace(destination: string, namespace: string): Promise<WrittenTag[]>;
  /** The tag is no longer the service's (deleted, or someone else wrote it since). */
  forget(destination: string, repository: string, tag: string): Promise<void>;
}
