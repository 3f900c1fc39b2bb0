// Pushes seen without a tag, held in one Redis hash shared by the replicas until Harbor says which tags they have.
import type { Redis } from 'ioredis';
import { withTimeout } from './connection.js';
import { REDIS_ANSWER_MS } from './bull-jobs.js';
import type { PendingPush } from '../jobs/types.js';

export class RedisPendingPushes {
  constructor(
    private readonly redis: Redis,
    private readonly hash: string,
  ) {}

  async add(push: Omit<PendingPush, 'id' | 'receivedAt'>): Promise<void> {
    const field = [push.project, push.repository, push.digest].join('\n');
    await withTimeout(
      this.redis.hsetnx(
        this.hash,
        field,
        JSON.stringify({ namespace: push.namespace, receivedAt: new Date().toISOString() }),
      ),
      REDIS_ANSWER_MS,
      'recording a push',
    );
  }

  async before(cutoff: Date): Promise<PendingPush[]> {
    const [, flat] = await this.redis.hscan(this.hash, 0, 'COUNT', 500);
    const out: PendingPush[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const [project, repository, digest] = flat[i].split('\n');
      const { namespace, receivedAt } = JSON.parse(flat[i + 1]) as { namespace: string; receivedAt: string };
      if (new Date(receivedAt) <= cutoff)
        out.push({ id: flat[i], project: project, repository: repository, digest: digest, namespace, receivedAt });
    }
    return out;
  }

  async remove(id: string): Promise<void> {
    await this.redis.hdel(this.hash, id);
  }
}
