// The Redis lease lock with a fake clock and a Redis stand-in in memory: renewals come every ttl/3 of the
// clock's time, a renewal refused or a Redis that stops answering ends the lease (its signal aborts) before
// the key can expire, and acquireWithin waits on the clock for another holder to let go.
import { expect, test } from '@jest/globals';
import type { Redis } from 'ioredis';
import { LeaseLocks, LockLostError } from '../../src/redis/lock.js';
import { FakeClock } from '../harness/fake-clock.js';
import { until } from '../harness/until.js';

/** SET NX, and the lock's scripts by digest: RENEW answers `renewAnswer` (or never, when hanging), RELEASE deletes. */
class MemoryRedis {
  readonly keys = new Map<string, string>();
  renewals = 0;
  renewAnswer: number | 'hang' = 1;
  async set(key: string, value: string, _px: string, _ttl: number, _nx: string): Promise<string | null> {
    if (this.keys.has(key)) return null;
    this.keys.set(key, value);
    return 'OK';
  }
  async evalsha(_sha: string, _n: number, key: string, token: string, ttl?: number): Promise<number> {
    if (ttl === undefined) return this.keys.get(key) === token ? Number(this.keys.delete(key)) : 0;
    this.renewals++;
    if (this.renewAnswer === 'hang') return new Promise(() => undefined);
    return this.renewAnswer;
  }
}

const waitFor = (what: string, ok: () => boolean) => until(what, async () => (ok() ? true : undefined), 5000, 5);

function setup(): { clock: FakeClock; redis: MemoryRedis; locks: LeaseLocks } {
  const clock = new FakeClock();
  const redis = new MemoryRedis();
  return { clock, redis, locks: new LeaseLocks(redis as unknown as Redis, { clock, redisTimeoutMs: 50 }) };
}

test('renewed every ttl/3 of the clock while Redis agrees; released, the key goes', async () => {
  const { clock, redis, locks } = setup();
  const lease = (await locks.acquire('sweep', 3000))!;
  expect(redis.keys.get('lock:sweep')).toBe(lease.token);
  for (let i = 1; i <= 3; i++) {
    clock.advance(1000);
    await waitFor(`renewal ${i}`, () => redis.renewals === i);
  }
  expect(lease.signal.aborted).toBe(false);
  expect(await locks.acquire('sweep', 3000)).toBeUndefined();
  await lease.release();
  expect(redis.keys.has('lock:sweep')).toBe(false);
});

test('a renewal refused ends the lease with a LockLostError', async () => {
  const { clock, redis, locks } = setup();
  const lease = (await locks.acquire('sweep', 3000))!;
  redis.renewAnswer = 0;
  clock.advance(1000);
  await waitFor('the lease to end', () => lease.signal.aborted);
  expect(lease.signal.reason).toBeInstanceOf(LockLostError);
  await lease.release();
});

test('a Redis that stops answering cannot keep the lease past its ttl minus the margin', async () => {
  const { clock, redis, locks } = setup();
  const lease = (await locks.acquire('sweep', 3000))!;
  redis.renewAnswer = 'hang';
  clock.advance(2699);
  expect(lease.signal.aborted).toBe(false);
  clock.advance(1);
  await waitFor('the lease to end', () => lease.signal.aborted);
  expect((lease.signal.reason as Error).message).toMatch(/not renewed within 3000 ms/);
  await lease.release();
});

test('acquireWithin waits on the clock for the holder to let go, or gives up after its wait', async () => {
  const { clock, redis, locks } = setup();
  const start = clock.now();
  const first = (await locks.acquire('merge', 5000))!;
  const waiting = locks.acquireWithin('merge', 5000, 1000, 20);
  await waitFor('a first poll', () => clock.sleeping > 2);
  await first.release();
  clock.advance(20);
  const second = (await waiting)!;
  expect(redis.keys.get('lock:merge')).toBe(second.token);

  // The second lease's renewal and deadline are two sleeps; a third is a poll of acquireWithin.
  let answered = false;
  const refused = locks.acquireWithin('merge', 5000, 100, 20).finally(() => (answered = true));
  while (!answered) {
    await waitFor('a poll or the answer', () => answered || clock.sleeping > 2);
    if (!answered) clock.advance(20);
  }
  expect(await refused).toBeUndefined();
  expect(clock.now() - start).toBe(20 + 100);
  await second.release();
});
