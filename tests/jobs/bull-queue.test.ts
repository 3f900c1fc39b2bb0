// The Redis job queue on its own, against a real redis-server: tags merged into a queued job by several
// replicas at once all survive, a de-duplication key left by a replica that died before adding its job heals,
// permanent failures are not retried while others are, a stop outlasting its grace period returns, and a job's
// own failure while a stop waits for it is recorded with its results.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { Redis } from 'ioredis';
import winston from 'winston';
import { ImageTally } from '../../src/copy/index.js';
import { BullQueue } from '../../src/redis/bull-queue.js';
import type { ImageJobSpec, Job, JobOutcome } from '../../src/jobs/types.js';
import { until } from '../harness/until.js';
import { startRedis, type RunningRedis } from '../harness/redis.js';

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

/** `n` queues on one prefix, each with its own connection, as `n` replicas would have. */
function replicas(n: number, prefix: string, retries = 2): BullQueue[] {
  return Array.from({ length: n }, () => {
    const client = new Redis(redis.url, { maxRetriesPerRequest: null });
    clients.push(client);
    const queue = new BullQueue(
      client,
      { prefix, concurrency: 1, retries, lockMs: 5000, backoffBaseMs: 50, backoffMaxMs: 50 },
      log,
    );
    queues.push(queue);
    return queue;
  });
}

const spec = (tags: string[], repository = 'app'): ImageJobSpec => ({
  kind: 'image',
  project: 'proj',
  repository,
  digest: `sha256:${'a'.repeat(64)}`,
  tags,
  namespace: 'ns',
});

describe('de-duplication across replicas', () => {
  test('20 rounds: tags sent to three replicas at the same moment all end up in the one queued job', async () => {
    const [a, b, c] = replicas(3, 'merge');
    for (let round = 0; round < 20; round++) {
      const key = `image dst/ns/app${round}@sha256:x`;
      const first = await a.enqueue(spec(['t0'], `app${round}`), key);
      expect(first.merged).toBe(false);
      const joined = await Promise.all([
        b.enqueue(spec(['t1'], `app${round}`), key),
        c.enqueue(spec(['t2'], `app${round}`), key),
        a.enqueue(spec(['t3'], `app${round}`), key),
      ]);
      expect(joined.map((j) => [j.merged, j.job.id])).toEqual([
        [true, first.job.id],
        [true, first.job.id],
        [true, first.job.id],
      ]);
      const job = (await b.get(first.job.id))!;
      expect({ round, tags: (job.spec as ImageJobSpec).tags.sort() }).toEqual({
        round,
        tags: ['t0', 't1', 't2', 't3'],
      });
    }
    expect((await a.counts()).queued).toBe(20);
  });

  test('a key left by a replica that died between claiming it and adding its job is freed, and the job made', async () => {
    const [a] = replicas(1, 'orphan');
    const key = 'image dst/ns/orphan@sha256:y';
    // What the dead replica left: the key, naming a job that was never added.
    const raw = new Redis(redis.url);
    clients.push(raw);
    await raw.set(
      `orphan:dedupe:${createHash('sha256').update(key).digest('hex')}`,
      '00000000-0000-4000-8000-000000000000',
    );
    const started = Date.now();
    const outcome = await a.enqueue(spec(['v1'], 'orphan'), key);
    expect(outcome.merged).toBe(false);
    expect(outcome.job.id).not.toBe('00000000-0000-4000-8000-000000000000');
    expect((await a.get(outcome.job.id))?.state).toBe('queued');
    // It waited for the job to appear (about 2 s), not forever.
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('running jobs', () => {
  test('a permanent failure fails at once; a transient one is retried and succeeds; results and attempts are recorded', async () => {
    const [a] = replicas(1, 'retries', 2);
    let transientCalls = 0;
    await a.start({
      handler: async (job: Job): Promise<JobOutcome> => {
        const repo = (job.spec as ImageJobSpec).repository;
        if (repo === 'permanent')
          throw Object.assign(new Error('namespace owned by another account'), { permanent: true });
        if (repo === 'transient' && ++transientCalls < 3) throw new Error('destination 503');
        return { results: [] };
      },
    });
    const permanent = await a.enqueue(spec(['v1'], 'permanent'), 'k-permanent');
    const transient = await a.enqueue(spec(['v1'], 'transient'), 'k-transient');
    const failed = await until('the permanent failure', async () => {
      const j = await a.get(permanent.job.id);
      return j?.state === 'failed' ? j : undefined;
    });
    expect(failed).toMatchObject({ attempts: 1, error: 'namespace owned by another account' });
    const done = await until('the transient one to succeed', async () => {
      const j = await a.get(transient.job.id);
      return j?.state === 'succeeded' ? j : undefined;
    });
    expect(done.attempts).toBe(3);
    expect(transientCalls).toBe(3);
    expect((await a.list({ state: 'failed' })).map((j) => j.id)).toEqual([permanent.job.id]);
  });

  test('stop with a job outlasting the grace period returns after the grace, and another replica finishes the job', async () => {
    const [a, b] = replicas(2, 'grace');
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const handled: string[] = [];
    await a.start({ handler: async (job) => (handled.push(`a:${job.id}`), await held, { results: [] }) });
    const { job } = await a.enqueue(spec(['v1'], 'slow'), 'k-slow');
    await until('the job running on a', async () => ((await a.get(job.id))?.state === 'running' ? true : undefined));

    const stopFrom = Date.now();
    const left = await a.stop(500);
    expect(left).toBe(1);
    expect(Date.now() - stopFrom).toBeLessThan(3000);

    // a is gone; b starts and takes the job over once a's lock (5 s) has run out.
    await b.start({ handler: async (j) => (handled.push(`b:${j.id}`), { results: [] }) });
    const finished = await until(
      'b to finish the job',
      async () => {
        const j = await b.get(job.id);
        return j?.state === 'succeeded' ? j : undefined;
      },
      30_000,
    );
    expect(finished.id).toBe(job.id);
    expect(handled).toEqual([`a:${job.id}`, `b:${job.id}`]);
    release();
  }, 60_000);

  test('a job that answers its signal past the grace period is handed back to the queue at once, its attempt not spent', async () => {
    const [a, b] = replicas(2, 'handback');
    await a.start({
      handler: (_job, _progress, signal) =>
        new Promise((_resolve, reject) =>
          signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true }),
        ),
    });
    const { job } = await a.enqueue(spec(['v1'], 'handback'), 'k-handback');
    await until('the job running on a', async () => ((await a.get(job.id))?.state === 'running' ? true : undefined));
    expect(await a.stop(200)).toBe(1);
    // Waiting again, not active under a lock nobody renews: no lock has to expire before another replica takes it.
    expect(await b.get(job.id)).toMatchObject({ state: 'queued', attempts: 1 });
    await b.start({ handler: async () => ({ results: [] }) });
    const finished = await until('b to finish the job', async () => {
      const j = await b.get(job.id);
      return j?.state === 'succeeded' ? j : undefined;
    });
    expect(finished.id).toBe(job.id);
  }, 60_000);

  test("a job's own failure while a stop waits for it is recorded with its results, which its next attempt gets", async () => {
    // Not cut off (its signal never aborted): the results may hold a deletion still to make (sync/deleted-meanwhile.ts).
    const [a, b] = replicas(2, 'own-failure');
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const failed = new ImageTally().result({
      source: 'harbor/proj/app@sha256:a',
      destination: 'swr/ns/app',
      status: 'failed',
      reason: 'deleting what this job wrote failed: 503',
      undoPending: true,
    });
    await a.start({ handler: async () => (await held, { results: [failed] }) });
    const { job } = await a.enqueue(spec(['v1'], 'own-failure'), 'k-own-failure');
    await until('the job running on a', async () => ((await a.get(job.id))?.state === 'running' ? true : undefined));
    const stopped = a.stop(10_000);
    release();
    expect(await stopped).toBe(0);
    const seen: Job[] = [];
    await b.start({ handler: async (next) => (seen.push(next), { results: [] }) });
    await until('b to finish the job', async () => ((await b.get(job.id))?.state === 'succeeded' ? true : undefined));
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ attempts: 2, results: [{ status: 'failed', undoPending: true }] });
  }, 60_000);

  test('a final failure of its own while a stop waits for it settles the job, as at any other time', async () => {
    const [a] = replicas(1, 'own-final', 0);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const settled: string[] = [];
    await a.start({
      handler: async () => {
        await held;
        throw new Error('Harbor answers 500');
      },
      onSettled: (id) => settled.push(id),
    });
    const { job } = await a.enqueue(spec(['v1'], 'own-final'), 'k-own-final');
    await until('the job running on a', async () => ((await a.get(job.id))?.state === 'running' ? true : undefined));
    const stopped = a.stop(10_000);
    release();
    expect(await stopped).toBe(0);
    expect(await a.get(job.id)).toMatchObject({ state: 'failed', attempts: 1, error: 'Harbor answers 500' });
    await until('the job settled', async () => (settled.includes(job.id) ? true : undefined));
  }, 60_000);
});
