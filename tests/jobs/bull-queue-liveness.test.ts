// What the Redis job queue tells the metrics about replicas, against a real redis-server: the job locks a
// replica holds and renews while a job runs, a renewal Redis refuses (the lock taken away) counted and the job
// stopped, and the replicas working on one prefix as they start and stop.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { Redis } from 'ioredis';
import winston from 'winston';
import type { ImageJobSpec, JobOutcome } from '../../src/jobs/types.js';
import { BullQueue } from '../../src/redis/bull-queue.js';
import { startRedis, type RunningRedis } from '../harness/redis.js';
import { until } from '../harness/until.js';

let redis: RunningRedis;
const clients: Redis[] = [];
const queues: BullQueue[] = [];
const log = winston.createLogger({ silent: true });

beforeAll(async () => {
  redis = await startRedis();
});

afterAll(async () => {
  await Promise.all(queues.map((q) => q.stop(0).then(() => q.close())));
  for (const c of clients) c.disconnect();
  await redis?.stop();
});

/** A replica on `prefix` with a short job lock, so that renewals come every few hundred milliseconds. */
function replica(prefix: string, lockMs = 400): BullQueue {
  const client = new Redis(redis.url, { maxRetriesPerRequest: null });
  clients.push(client);
  const queue = new BullQueue(client, { prefix, concurrency: 2, retries: 0, lockMs }, log);
  queues.push(queue);
  return queue;
}

function client(): Redis {
  const c = new Redis(redis.url, { maxRetriesPerRequest: null });
  clients.push(c);
  return c;
}

const spec = (repository: string): ImageJobSpec => ({
  kind: 'image',
  project: 'proj',
  repository,
  digest: `sha256:${'b'.repeat(64)}`,
  tags: ['v1'],
  namespace: 'ns',
});

describe('job locks', () => {
  test('a running job holds one lock, renewed while it runs; none held once it is done', async () => {
    const a = replica('renew');
    expect(a.locks).toEqual({ held: 0, renewed: 0, failed: 0 });
    let finish!: () => void;
    const running = new Promise<void>((r) => (finish = r));
    await a.start({ handler: async (): Promise<JobOutcome> => (await running, { results: [] }) });
    const { job } = await a.enqueue(spec('slow'), 'k-renew');
    await until('the job running', async () => ((await a.get(job.id))?.state === 'running' ? true : undefined));
    expect(a.locks.held).toBe(1);
    // Renewed at least twice: BullMQ renews every lockMs / 2 while the job runs.
    await until('two renewals', async () => (a.locks.renewed >= 2 ? true : undefined), 20_000, 50);
    finish();
    await until('the job done', async () => ((await a.get(job.id))?.state === 'succeeded' ? true : undefined));
    expect(a.locks).toMatchObject({ held: 0, failed: 0 });
  });

  test('a lock taken away in Redis: the renewal fails, is counted, and the job is stopped on this replica', async () => {
    const a = replica('taken');
    await a.start({
      handler: (_job, _progress, signal) =>
        new Promise((_resolve, reject) =>
          signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }),
        ),
    });
    const { job } = await a.enqueue(spec('taken'), 'k-taken');
    await until('the job running', async () => ((await a.get(job.id))?.state === 'running' ? true : undefined));
    // What Redis shows after a failover that lost the key, or another replica having taken the job over.
    await client().del(`taken:jobs:${job.id}:lock`);
    await until('the failed renewal', async () => (a.locks.failed >= 1 ? true : undefined), 20_000, 50);
    await until('the job stopped here', async () => (a.locks.held === 0 ? true : undefined), 20_000, 50);
    expect(a.locks.failed).toBe(1);
  });
});

describe('replicas', () => {
  test('replicas on one prefix count each other from their start to their stop; another prefix is apart', async () => {
    const [a, b, other] = [replica('seen'), replica('seen'), replica('elsewhere')];
    expect(await a.replicas()).toBe(0);
    const idle = { handler: async (): Promise<JobOutcome> => ({ results: [] }) };
    await a.start(idle);
    await until('a to see itself', async () => ((await a.replicas()) === 1 ? true : undefined));
    await Promise.all([b.start(idle), other.start(idle)]);
    await until('two replicas', async () => ((await a.replicas()) === 2 ? true : undefined));
    expect(await b.replicas()).toBe(2);
    expect(await other.replicas()).toBe(1);
    await b.stop(0);
    expect(await a.replicas()).toBe(1);
  });
});
