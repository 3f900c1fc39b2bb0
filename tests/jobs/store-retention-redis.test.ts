// The Redis backend keeps finished jobs by the same two numbers as the SQLite store (JobRetentionDays,
// JobRetentionCount), through BullMQ's removeOnComplete/removeOnFail, against a real redis-server.
import { afterAll, expect, test } from '@jest/globals';
import { Redis } from 'ioredis';
import winston from 'winston';
import { BullQueue } from '../../src/redis/bull-queue.js';
import { startRedis, type RunningRedis } from '../harness/redis.js';
import { until } from '../harness/until.js';

const log = winston.createLogger({ silent: true });
let redis: RunningRedis | undefined;
const clients: Redis[] = [];

afterAll(async () => {
  for (const c of clients) c.disconnect();
  await redis?.stop();
});

test('BullMQ keeps JobRetentionCount finished jobs, with JobRetentionDays as their age limit', async () => {
  redis = await startRedis();
  const client = new Redis(redis.url, { maxRetriesPerRequest: null });
  clients.push(client);
  const queue = new BullQueue(
    client,
    { prefix: 'retention', concurrency: 2, retries: 0, lockMs: 5000, retention: { days: 2, count: 3 } },
    log,
  );
  try {
    await queue.start({ handler: async () => ({ results: [] }) });
    const made = [];
    for (let i = 0; i < 8; i++)
      made.push((await queue.enqueue({ kind: 'project', project: 'p', namespace: `n${i}` }, undefined)).job.id);
    await until(
      'every job run',
      async () => {
        const counts = await queue.counts();
        return counts.queued === 0 && counts.running === 0 ? counts : undefined;
      },
      20_000,
    );
    expect((await queue.counts()).succeeded).toBe(3);
    const kept = await queue.list({ state: 'succeeded' });
    expect(kept).toHaveLength(3);
    for (const job of kept) expect(made).toContain(job.id);
    // The age limit goes with each job as BullMQ stores it: JobRetentionDays in seconds.
    const opts = JSON.parse((await client.hget(`retention:jobs:${kept[0].id}`, 'opts'))!) as Record<string, unknown>;
    expect(opts).toMatchObject({
      removeOnComplete: { age: 2 * 24 * 3600, count: 3 },
      removeOnFail: { age: 2 * 24 * 3600, count: 3 },
    });
  } finally {
    await queue.stop(0);
    await queue.close();
  }
});
