// The pieces replicas share through Redis (location index, request limiter, lease lock, connection), each
// against a real redis-server; every "replica" has its own connection, as separate processes would.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { Redis } from 'ioredis';
import { TokenBucket, type RequestPacer } from '../../src/oci/rate-limit.js';
import { createRedisClient } from '../../src/redis/connection.js';
import { maskRedisUrl, parseRedisUrl } from '../../src/config/redis-url.js';
import { RedisLocationIndex, locationKey } from '../../src/redis/location-index.js';
import { LeaseLocks, LockLostError, lockKey } from '../../src/redis/lock.js';
import { RedisRequestLimiter, type LimiterMode } from '../../src/redis/request-limiter.js';
import { startRedis, type RunningRedis } from '../harness/redis.js';
import { until } from '../harness/until.js';

let redis: RunningRedis;
const clients = new Map<Redis, string>(); // client -> the URL of its server

function track(client: Redis, url: string): Redis {
  clients.set(client, url);
  return client;
}

async function connect(url: string, keyPrefix: string, onError?: (message: string) => void): Promise<Redis> {
  const client = track(createRedisClient(url, { keyPrefix, onError, connectTimeoutMs: 2000 }), url);
  if (client.status !== 'ready') await new Promise<void>((resolve) => client.once('ready', () => resolve()));
  return client;
}

/** Closes the clients of a server while it still answers, so none is left waiting on a dead socket. */
async function closeClients(url?: string): Promise<void> {
  await Promise.all(
    [...clients]
      .filter(([, of]) => url === undefined || of === url)
      .map(async ([client]) => {
        clients.delete(client);
        if (client.status === 'ready') await within(2000, 'QUIT', client.quit()).catch(() => client.disconnect());
        else client.disconnect();
      }),
  );
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Fails instead of hanging: the test's own bound on something that must finish. */
async function within<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms)),
  );
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Most grants in any half-open 1 s window [t, t + 1000). */
function busiestSecond(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (j < sorted.length && sorted[j] < sorted[i] + 1000) j++;
    best = Math.max(best, j - i);
  }
  return best;
}

/** Each limiter takes as fast as it can until `ms` have passed; the grant times of each. */
async function hammer(limiters: RequestPacer[], ms: number): Promise<number[][]> {
  const end = performance.now() + ms;
  return Promise.all(
    limiters.map(async (limiter) => {
      const grants: number[] = [];
      while (performance.now() < end) {
        await limiter.take();
        grants.push(performance.now());
      }
      return grants;
    }),
  );
}

async function commandCalls(admin: Redis): Promise<number> {
  const info = await admin.info('commandstats');
  let calls = 0;
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm))
    if (match[1] !== 'info') calls += Number(match[2]);
  return calls;
}

beforeAll(async () => {
  redis = await startRedis();
});

afterAll(async () => {
  await closeClients();
  await redis?.stop();
});

describe('connection', () => {
  test('the rendered URL never holds the password, whichever way the URL carries it', () => {
    const password = 'pa:ss@w0rd/S3cret';
    const encoded = encodeURIComponent(password);
    const cases: Array<[string, string]> = [
      [`redis://:${encoded}@redis.example:6380/2`, 'redis://:***@redis.example:6380/2'],
      [`redis://harbor:${encoded}@redis.example`, 'redis://harbor:***@redis.example'],
      [`rediss://${encoded}@redis.example:6379/0`, 'rediss://:***@redis.example:6379/0'],
      [`redis://redis.example:6379?password=${encoded}&db=1`, 'redis://redis.example:6379?password=***&db=1'],
      ['redis://redis.example:6379', 'redis://redis.example:6379'],
    ];
    for (const [url, masked] of cases) {
      expect(maskRedisUrl(url)).toBe(masked);
      expect(maskRedisUrl(url)).not.toContain('S3cret');
    }
    expect(parseRedisUrl(`rediss://harbor:${encoded}@[::1]:7000/3`)).toEqual({
      tls: true,
      host: '::1',
      port: 7000,
      username: 'harbor',
      password,
      db: 3,
    });
    expect(parseRedisUrl(`redis://${encoded}@h`)).toMatchObject({ username: undefined, password, port: 6379, db: 0 });
    for (const bad of [`http://u:${encoded}@h`, `redis://u:${encoded}@h/x`, `not a url ${encoded}`]) {
      expect(() => parseRedisUrl(bad)).toThrow();
      try {
        parseRedisUrl(bad);
      } catch (error) {
        expect((error as Error).message).not.toContain('S3cret');
      }
    }
  });

  test('connects with the password from the URL and prefixes keys; a wrong password is reported without it', async () => {
    const password = 'pa:ss@w0rd/S3cret';
    const guarded = await startRedis({ password });
    try {
      expect(guarded.url).toContain(encodeURIComponent(password));
      const client = await connect(guarded.url, 'shs:');
      await client.set('probe', '1');
      const admin = await connect(guarded.url, '');
      expect(await admin.get('shs:probe')).toBe('1');
      const unprefixed = track(createRedisClient(guarded.url), guarded.url);
      await unprefixed.set('default-prefix', '1');
      expect(await admin.exists('shs:default-prefix')).toBe(1);

      const errors: string[] = [];
      const wrong = guarded.url.replace(encodeURIComponent(password), encodeURIComponent(`${password}-Wrong`));
      const refused = track(
        createRedisClient(wrong, { onError: (message) => errors.push(message), connectTimeoutMs: 2000 }),
        guarded.url,
      );
      const failure = await within(
        5000,
        'a call with a wrong password',
        refused.ping().then(
          () => undefined,
          (error: Error) => error.message,
        ),
      );
      const seen = [failure ?? '', ...errors].join('\n');
      expect(errors.length).toBeGreaterThan(0);
      expect(seen).toMatch(/WRONGPASS|invalid|NOAUTH/i);
      expect(seen).toContain(':***@127.0.0.1');
      expect(seen).not.toContain('S3cret');
    } finally {
      await closeClients(guarded.url);
      await guarded.stop();
    }
  });
});

describe('location index', () => {
  const registry = 'swr.cn-north-4.myhuaweicloud.com';
  const digest = `sha256:${'a'.repeat(64)}`;
  const other = `sha256:${'b'.repeat(64)}`;

  test('has, candidates (most recent first, bounded), idempotent record, forget, per registry and digest', async () => {
    const prefix = redis.prefix('locations');
    const client = await connect(redis.url, prefix);
    const index = new RedisLocationIndex(client, { maxRepositoriesPerDigest: 4 });

    expect(await index.has(registry, digest, 'ns/a')).toBe(false);
    expect(await index.candidates(registry, digest, 10)).toEqual([]);
    await index.record(registry, digest, 'ns/a');
    await index.record(registry, digest, 'ns/b');
    await index.record(registry, digest, 'ns/c');
    expect(await index.has(registry, digest, 'ns/a')).toBe(true);
    expect(await index.candidates(registry, digest, 10)).toEqual(['ns/c', 'ns/b', 'ns/a']);
    expect(await index.candidates(registry, digest, 2)).toEqual(['ns/c', 'ns/b']);
    expect(await index.candidates(registry, digest, 0)).toEqual([]);

    // Recording again adds nothing, it only makes the repository the most recent.
    await index.record(registry, digest, 'ns/a');
    await index.record(registry, digest, 'ns/a');
    expect(await index.candidates(registry, digest, 10)).toEqual(['ns/a', 'ns/c', 'ns/b']);

    // Other digests and registries are separate.
    expect(await index.has(registry, other, 'ns/a')).toBe(false);
    expect(await index.has('127.0.0.1:5000', digest, 'ns/a')).toBe(false);
    await index.record('127.0.0.1:5000', digest, 'ns/z');
    expect(await index.candidates(registry, digest, 10)).not.toContain('ns/z');

    // Bounded: the oldest repositories go first; the key expires when the blob is not seen again.
    await index.record(registry, digest, 'ns/d');
    await index.record(registry, digest, 'ns/e');
    expect(await index.candidates(registry, digest, 10)).toEqual(['ns/e', 'ns/d', 'ns/a', 'ns/c']);
    expect(await index.has(registry, digest, 'ns/b')).toBe(false);
    const ttl = await client.pttl(locationKey(registry, digest));
    expect(ttl).toBeGreaterThan(29 * 24 * 3600 * 1000);

    await index.forget(registry, digest, 'ns/a');
    expect(await index.has(registry, digest, 'ns/a')).toBe(false);
    expect(await index.candidates(registry, digest, 10)).toEqual(['ns/e', 'ns/d', 'ns/c']);
    for (const repo of ['ns/e', 'ns/d', 'ns/c']) await index.forget(registry, digest, repo);
    expect(await client.exists(locationKey(registry, digest))).toBe(0);

    const admin = await connect(redis.url, '');
    expect(await admin.exists(`${prefix}${locationKey('127.0.0.1:5000', digest)}`)).toBe(1);
  });

  test("two replicas see each other's records and forgets", async () => {
    const prefix = redis.prefix('locations-shared');
    const one = new RedisLocationIndex(await connect(redis.url, prefix));
    const two = new RedisLocationIndex(await connect(redis.url, prefix));
    await one.record(registry, digest, 'ns/from-one');
    expect(await two.has(registry, digest, 'ns/from-one')).toBe(true);
    await two.record(registry, digest, 'ns/from-two');
    expect(await one.candidates(registry, digest, 5)).toEqual(['ns/from-two', 'ns/from-one']);
    await one.forget(registry, digest, 'ns/from-two');
    expect(await two.candidates(registry, digest, 5)).toEqual(['ns/from-one']);
  });
});

describe('request limiter shared by replicas', () => {
  const rate = 20;
  const burst = 5; // the default: a quarter second's worth

  /** Grants in the last second on Redis' clock, from the limiter's grant log. */
  const GRANTED_LAST_SECOND = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
return redis.call('ZCOUNT', KEYS[1], string.format('(%.0f', now - 1000000), '+inf')`;

  /** Runs `work` while sampling Redis' own count of the last second's grants for `host`; the highest seen. */
  async function sampled<T>(prefix: string, host: string, work: Promise<T>): Promise<[T, number]> {
    const admin = await connect(redis.url, prefix);
    let sampling = true;
    let busiest = 0;
    const sampler = (async () => {
      while (sampling) {
        busiest = Math.max(busiest, Number(await admin.eval(GRANTED_LAST_SECOND, 1, `rl:${host}:granted`)));
        await sleep(5); // the sampling period, not a wait: the loop runs until the work is done
      }
    })();
    try {
      return [await work, busiest];
    } finally {
      sampling = false;
      await sampler;
    }
  }

  async function replicas(count: number, host: string, prefix: string): Promise<RedisRequestLimiter[]> {
    const limiters: RedisRequestLimiter[] = [];
    for (let i = 0; i < count; i++) {
      limiters.push(
        new RedisRequestLimiter(await connect(redis.url, prefix), {
          host,
          requestsPerSecond: rate,
          replicaHint: count,
        }),
      );
    }
    return limiters;
  }

  test('3 replicas taking as fast as they can stay under the rate together, and get close to it', async () => {
    const prefix = redis.prefix('limiter');
    const limiters = await replicas(3, 'swr.test', prefix);
    // Both kinds fit the transport's use.
    const pacers: RequestPacer[] = [new TokenBucket(rate), ...limiters];
    expect(pacers).toHaveLength(4);

    const seconds = 3;
    // Redis' own count of the last second is sampled while the replicas run.
    const [perReplica, serverBusiest] = await sampled(prefix, 'swr.test', hammer(limiters, seconds * 1000));
    const all = perReplica.flat();
    const busiest = busiestSecond(all);
    console.log(
      `limiter, 3 replicas at ${rate}/s (burst ${burst}) for ${seconds} s: ${all.length} grants (${perReplica.map((g) => g.length).join(' + ')}); busiest 1 s window ${busiest} as seen by the replicas, ${serverBusiest} on Redis' clock`,
    );
    expect(serverBusiest).toBeGreaterThan(rate / 2);
    expect(serverBusiest).toBeLessThanOrEqual(rate);
    // Seen from here, a grant can be late by the time its answer took, so a window may catch up to a burst more.
    expect(busiest).toBeLessThanOrEqual(rate + burst);
    expect(all.length).toBeGreaterThanOrEqual(0.8 * rate * seconds);
    for (const grants of perReplica) expect(grants.length).toBeGreaterThanOrEqual(0.1 * all.length);
    for (const limiter of limiters) expect(limiter.mode).toBe('shared');
  });

  test('a slowDown on one replica lowers the rate the others get, once per second, and successes bring it back', async () => {
    const prefix = redis.prefix('limiter-slow');
    const [a, b, c] = await replicas(3, 'swr.slow', prefix);
    // A runs at the full rate, so the registry's pushback halves what was sent in the last second (about 20).
    const [fromA] = await hammer([a], 1200);
    const sentByA = fromA.filter((at) => at > performance.now() - 1000).length;
    a.slowDown(0);
    await a.flush();
    const halved = a.currentRate;
    expect(Math.abs(halved - Math.min(rate, sentByA) / 2)).toBeLessThanOrEqual(1);
    expect(halved).toBeLessThanOrEqual(rate / 2);
    // Another replica seeing the same overload within the second does not halve it again.
    b.slowDown(0);
    await b.flush();
    expect(b.currentRate).toBe(halved);

    // Once A's grants have left the last second, B and C together get the lowered rate.
    const admin = await connect(redis.url, prefix);
    await until(
      "A's grants to leave the last second on Redis' clock",
      async () => (Number(await admin.eval(GRANTED_LAST_SECOND, 1, 'rl:swr.slow:granted')) === 0 ? true : undefined),
      5000,
      50,
    );
    const [[fromB, fromC], serverBusiest] = await sampled(prefix, 'swr.slow', hammer([b, c], 2000));
    const both = [...fromB, ...fromC];
    const limit = Math.floor(halved);
    console.log(
      `limiter after slowDown to ${halved}/s: B + C got ${both.length} grants in 2 s (${fromB.length} + ${fromC.length}); busiest 1 s window ${busiestSecond(both)} as seen by them, ${serverBusiest} on Redis' clock`,
    );
    expect(c.currentRate).toBe(halved);
    expect(serverBusiest).toBeLessThanOrEqual(limit);
    expect(busiestSecond(both)).toBeLessThanOrEqual(limit + burst);
    expect(both.length).toBeLessThanOrEqual(2 * limit + burst);
    expect(both.length).toBeGreaterThanOrEqual(0.8 * 2 * limit);
    expect(fromB.length).toBeGreaterThan(0);
    expect(fromC.length).toBeGreaterThan(0);

    // A pause asked for by one replica holds the others too.
    a.slowDown(400);
    await a.flush();
    const pausedAt = performance.now();
    await c.take();
    expect(performance.now() - pausedAt).toBeGreaterThanOrEqual(350);

    // Each success earns back about one request per second per second, shared: C's successes raise B's rate.
    const lowered = c.currentRate;
    expect(lowered).toBeLessThan(rate);
    for (let i = 0; i < 400; i++) c.succeeded();
    await c.take();
    expect(c.currentRate).toBe(rate);
    await b.take();
    expect(b.currentRate).toBe(rate);
  });

  test('unlimited (0) makes no Redis calls at all', async () => {
    const admin = await connect(redis.url, '');
    const client = await connect(redis.url, redis.prefix('unlimited'));
    const limiter = new RedisRequestLimiter(client, { host: 'harbor.test', requestsPerSecond: 0, replicaHint: 3 });
    const before = await commandCalls(admin);
    const started = performance.now();
    for (let i = 0; i < 1000; i++) await limiter.take();
    for (let i = 0; i < 10; i++) limiter.succeeded();
    expect(performance.now() - started).toBeLessThan(500);
    expect(limiter.currentRate).toBe(0);
    expect(await commandCalls(admin)).toBe(before);

    // The same count does see a limited one.
    const limited = new RedisRequestLimiter(client, { host: 'harbor.test', requestsPerSecond: 100, replicaHint: 1 });
    await limited.take();
    expect(await commandCalls(admin)).toBeGreaterThan(before);
  });
});

describe('lease lock', () => {
  async function contenders(count: number, prefix: string): Promise<LeaseLocks[]> {
    const locks: LeaseLocks[] = [];
    for (let i = 0; i < count; i++) locks.push(new LeaseLocks(await connect(redis.url, prefix)));
    return locks;
  }

  test('two contenders: exactly one runs the sweep', async () => {
    const [a, b] = await contenders(2, redis.prefix('lock-race'));
    let runs = 0;
    let oneSettled!: () => void;
    const otherGaveUp = new Promise<void>((resolve) => (oneSettled = resolve));
    // The holder sweeps until the other contender has given up, so the two surely overlapped.
    const sweep = async (): Promise<string> => {
      runs++;
      await otherGaveUp;
      return 'swept';
    };
    const tries = [a.withLock('reconcile', 2000, sweep), b.withLock('reconcile', 2000, sweep)];
    for (const attempt of tries) void attempt.finally(oneSettled);
    const results = await Promise.all(tries);
    expect(runs).toBe(1);
    expect(results.filter((r) => r === 'swept')).toHaveLength(1);
    expect(results.filter((r) => r === undefined)).toHaveLength(1);
  });

  test('the lease renews past its ttl while the holder runs long, and is freed after', async () => {
    const prefix = redis.prefix('lock-renew');
    const [a, b] = await contenders(2, prefix);
    const raw = await connect(redis.url, prefix);
    const ttl = 450;
    const result = await a.withLock('reconcile', ttl, async (signal) => {
      for (let elapsed = 0; elapsed < 4 * ttl; elapsed += 150) {
        // Kept: the ttl runs on Redis' clock, which no fake clock reaches; only real time past it shows renewal.
        await sleep(150);
        expect(signal.aborted).toBe(false);
      }
      expect(await raw.pttl(lockKey('reconcile'))).toBeGreaterThan(0);
      expect(await b.withLock('reconcile', ttl, async () => 'should not run')).toBeUndefined();
      return 'done';
    });
    expect(result).toBe('done');
    expect(await raw.exists(lockKey('reconcile'))).toBe(0);
  });

  test.each([
    ['stolen', (raw: Redis) => raw.set(lockKey('reconcile'), 'someone-else', 'PX', 10_000)],
    ['deleted', (raw: Redis) => raw.del(lockKey('reconcile'))],
  ])(
    "a holder whose key is %s sees its signal abort, and does not free the next holder's lock",
    async (how, tamper) => {
      const prefix = redis.prefix(`lock-${how}`);
      const [a] = await contenders(1, prefix);
      const raw = await connect(redis.url, prefix);
      const ttl = 600;
      const outcome = await within(
        3000,
        'the holder noticing',
        a.withLock('reconcile', ttl, async (signal) => {
          const tamperedAt = performance.now();
          await tamper(raw);
          await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
          return { after: performance.now() - tamperedAt, reason: signal.reason as unknown };
        }),
      );
      expect(outcome!.reason).toBeInstanceOf(LockLostError);
      expect(outcome!.after).toBeLessThan(ttl);
      expect(await raw.get(lockKey('reconcile'))).toBe(how === 'stolen' ? 'someone-else' : null);
    },
  );

  test('release lets the other contender acquire', async () => {
    const [a, b] = await contenders(2, redis.prefix('lock-release'));
    const lease = await a.acquire('reconcile', 5000);
    expect(lease).toBeDefined();
    let bRan = false;
    expect(await b.withLock('reconcile', 5000, async () => (bRan = true))).toBeUndefined();
    expect(bRan).toBe(false);
    await lease!.release();
    expect(lease!.signal.aborted).toBe(false);
    expect(await b.withLock('reconcile', 5000, async () => (bRan = true))).toBe(true);
    expect(await a.withLock('reconcile', 5000, async () => 'again')).toBe('again');
  });
});

describe('Redis unreachable', () => {
  test('the limiter paces locally at rate / replicaHint, never hangs, and returns to Redis; a held lock aborts', async () => {
    const own = await startRedis();
    try {
      const prefix = own.prefix('outage');
      const client = await connect(own.url, prefix);
      const modes: Array<[LimiterMode, string]> = [];
      const limiter = new RedisRequestLimiter(client, {
        host: 'swr.outage',
        requestsPerSecond: 20,
        replicaHint: 2,
        redisTimeoutMs: 200,
        retryRedisAfterMs: 500,
        onModeChange: (mode, reason) => modes.push([mode, reason]),
      });
      const locks = new LeaseLocks(client, { redisTimeoutMs: 200 });
      await within(
        2000,
        'takes with Redis up',
        (async () => {
          for (let i = 0; i < 5; i++) await limiter.take();
        })(),
      );
      expect(limiter.mode).toBe('shared');

      // Hung: connected, but nothing answers.
      const lease = await locks.acquire('reconcile', 600);
      expect(lease).toBeDefined();
      own.freeze();
      const frozenAt = performance.now();
      const grants = await within(4000, '20 takes with Redis hung', hammerCount(limiter, 20));
      const elapsed = performance.now() - frozenAt;
      expect(limiter.mode).toBe('local');
      expect(limiter.currentRate).toBe(10);
      expect(busiestSecond(grants)).toBeLessThanOrEqual(10 + 1);
      // 20 grants at 10/s take about 2 s: paced, not let through.
      expect(elapsed).toBeGreaterThan(1500);
      expect(modes.at(-1)![0]).toBe('local');
      expect(modes.at(-1)![1]).toMatch(/did not answer/);
      expect(lease!.signal.aborted).toBe(true);
      expect(lease!.signal.reason).toBeInstanceOf(LockLostError);
      await within(1000, 'releasing a lock with Redis hung', lease!.release());
      await expect(
        within(
          1000,
          'withLock with Redis hung',
          locks.withLock('other', 1000, async () => 'ran'),
        ),
      ).rejects.toThrow(/did not answer/);

      own.thaw();
      await until(
        'the limiter to ask Redis again',
        async () => (await limiter.take(), limiter.mode === 'shared' ? true : undefined),
        5000,
        50,
      );
      await within(
        2000,
        'takes after Redis came back',
        (async () => {
          for (let i = 0; i < 3; i++) await limiter.take();
        })(),
      );
      expect(limiter.mode).toBe('shared');
      expect(modes.at(-1)![0]).toBe('shared');

      // Gone: the connection drops and ioredis keeps reconnecting.
      await own.down();
      const downGrants = await within(3000, '10 takes with Redis down', hammerCount(limiter, 10));
      expect(limiter.mode).toBe('local');
      expect(busiestSecond(downGrants)).toBeLessThanOrEqual(10 + 1);
      await expect(
        within(
          1000,
          'withLock with Redis down',
          locks.withLock('other', 1000, async () => 'ran'),
        ),
      ).rejects.toThrow(/did not answer/);

      // Back (empty, nothing was saved): the same connection reconnects and the replicas share again.
      await own.up();
      await within(
        5000,
        'reconnecting',
        new Promise<void>((resolve) => (client.status === 'ready' ? resolve() : client.once('ready', () => resolve()))),
      );
      await until(
        'the limiter to ask Redis again',
        async () => (await limiter.take(), limiter.mode === 'shared' ? true : undefined),
        5000,
        50,
      );
      await within(2000, 'takes after a restart', limiter.take());
      expect(limiter.mode).toBe('shared');
      expect(await locks.withLock('reconcile', 1000, async () => 'ran')).toBe('ran');
    } finally {
      await closeClients(own.url);
      await own.stop();
    }
  });
});

async function hammerCount(limiter: RequestPacer, count: number): Promise<number[]> {
  const grants: number[] = [];
  for (let i = 0; i < count; i++) {
    await limiter.take();
    grants.push(performance.now());
  }
  return grants;
}
