// Where blobs live on each destination registry (digest -> repositories), so that a blob another repository
// already holds is mounted instead of uploaded. Asynchronous so a persistent or shared store can stand in.

export interface LocationIndex {
  has(registry: string, digest: string, repository: string): Promise<boolean>;
  /** Repositories known to hold the blob, most recently seen first. */
  candidates(registry: string, digest: string, limit: number): Promise<string[]>;
  record(registry: string, digest: string, repository: string): Promise<void>;
  forget(registry: string, digest: string, repository: string): Promise<void>;
}

/** In-memory index, bounded: the oldest digests are dropped first once `maxDigests` is reached. */
export class MemoryLocationIndex implements LocationIndex {
  private readonly entries = new Map<string, string[]>();

  constructor(private readonly maxDigests = 200_000) {}

  async has(registry: string, digest: string, repository: string): Promise<boolean> {
    return this.entries.get(key(registry, digest))?.includes(repository) ?? false;
  }

  async candidates(registry: string, digest: string, limit: number): Promise<string[]> {
    return (this.entries.get(key(registry, digest)) ?? []).slice(0, limit);
  }

  async record(registry: string, digest: string, repository: string): Promise<void> {
    const k = key(registry, digest);
    const repos = (this.entries.get(k) ?? []).filter((r) => r !== repository);
    repos.unshift(repository);
    this.entries.delete(k);
    this.entries.set(k, repos.slice(0, 16));
    if (this.entries.size > this.maxDigests) this.entries.delete(this.entries.keys().next().value!);
  }

  async forget(registry: string, digest: string, repository: string): Promise<void> {
    const k = key(registry, digest);
    const repos = this.entries.get(k)?.filter((r) => r !== repository);
    if (repos && repos.length > 0) this.entries.set(k, repos);
    else this.entries.delete(k);
  }
}

function key(registry: string, digest: string): string {
  return `${registry} ${digest}`;
}
