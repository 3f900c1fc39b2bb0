// The record of tags the service wrote (jobs/written-tags.ts) in Redis, for every replica: a hash per
// destination repository (tag -> digests) and a set per destination namespace naming its repositories, for the
// sweep. No expiry: these keys say what the service may delete, and job retention has nothing to do with them.
import type { Redis } from 'ioredis';
import type { WrittenTag, WrittenTags } from '../jobs/written-tags.js';

interface Stored {
  digest: string;
  sourceDigest: string;
  project: string;
}

/** A host never holds '/', so the registry ends where the repository starts. */
export function writtenKey(destination: string, repository: string): string {
  return `written:${destination}/${repository}`;
}

function namespaceKey(destination: string, namespace: string): string {
  return `written-repos:${destination}/${namespace}`;
}

function namespaceOf(repository: string): string {
  return repository.split('/')[0];
}

export class RedisWrittenTags implements WrittenTags {
  constructor(private readonly client: Redis) {}

  async record(tag: WrittenTag): Promise<void> {
    const stored: Stored = { digest: tag.digest, sourceDigest: tag.sourceDigest, project: tag.project };
    await this.client
      .multi()
      .hset(writtenKey(tag.destination, tag.repository), tag.tag, JSON.stringify(stored))
      .sadd(namespaceKey(tag.destination, namespaceOf(tag.repository)), tag.repository)
      .exec();
  }

  async bySource(destination: string, repository: string, sourceDigest: string): Promise<WrittenTag[]> {
    const all = await this.inRepository(destination, repository);
    return all.filter((t) => t.sourceDigest === sourceDigest);
  }

  async inNamespace(destination: string, namespace: string): Promise<WrittenTag[]> {
    const repositories = (await this.client.smembers(namespaceKey(destination, namespace))).sort();
    const out: WrittenTag[] = [];
    for (const repository of repositories) out.push(...(await this.inRepository(destination, repository)));
    return out;
  }

  async forget(destination: string, repository: string, tag: string): Promise<void> {
    await this.client.hdel(writtenKey(destination, repository), tag);
    // A repository left without tags leaves the namespace's set; one written again meanwhile is added back by
    // its record, and a stale member only costs an empty read.
    if ((await this.client.hlen(writtenKey(destination, repository))) === 0)
      await this.client.srem(namespaceKey(destination, namespaceOf(repository)), repository);
  }

  private async inRepository(destination: string, repository: string): Promise<WrittenTag[]> {
    const fields = await this.client.hgetall(writtenKey(destination, repository));
    const out: WrittenTag[] = [];
    for (const [tag, value] of Object.entries(fields).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      try {
        const stored = JSON.parse(value) as Partial<Stored>;
        if (
          typeof stored.digest === 'string' &&
          typeof stored.sourceDigest === 'string' &&
          typeof stored.project === 'string'
        )
          out.push({ destination, repository, tag, ...(stored as Stored) });
      } catch {
        // Not written by this service's code: not a tag it may delete.
      }
    }
    return out;
  }
}
