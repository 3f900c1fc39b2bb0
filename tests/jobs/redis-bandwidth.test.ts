// MaxBandwidth shared by replicas through a real redis-server: limiters on one Redis (each with its own
// connection, as separate processes would have) draw from one budget, ask Redis once per grant rather than per
// chunk, and cap themselves at a share of the rate while Redis is away. Counts, not times.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import type { Redis } from 'ioredis';
import winston from 'winston';
import { parseConfig } from '../../src/config/config.js';
import { ByteBucket } from '../../src/copy/index.js';
import { openBackend } from '../../src/main/backend.js';
import { RedisBandwidthLimiter } from '../../src/redis/bandwidth-limiter.js';
import { createRedisClient } from '../../src/redis/connection.js';
import type { LimiterMode } from '../../src/redis/request-limiter.js';
import { startRedis, type RunningRedis } from '../harness/redis.js';
import { testServiceConfig } from '../harness/service.js';
import { until } from '../harness/until.js';

let redis: RunningRedis;
const clients: Redis[] = [];

beforeAll(async () => {
  redis = await startRedis();
});

afterAll(async () => {
  for (const client of clients) {
    if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
    else client.disconnect();
  }
  await redis?.stop();
});

async function connect(keyPrefix: string): Promise<Redis> {
  const client = createRedisClient(redis.url, { keyPrefix, connectTimeoutMs: 2000 });
  clients.push(client);
  if (client.status !== 'ready') await new Promise<void>((resolve) => client.once('ready', () => resolve()));
  return client;
}

const KiB = 1024;

test('two replicas on one Redis share one budget: what one spent, the other waits for', async () => {
  const prefix = redis.prefix('bw-share');
  const options = { bytesPerSecond: 1_000_000, replicaHint: 3, burst: 64 * KiB, grantBytes: 64 * KiB };
  const first = new RedisBandwidthLimiter(await connect(prefix), options);
  const second = new RedisBandwidthLimiter(await connect(prefix), options);
  const elsewhere = new RedisBandwidthLimiter(await connect(redis.prefix('bw-other')), options);

  await first.take(64 * KiB);
  await second.take(64 * KiB);
  await elsewhere.take(64 * KiB);
  expect(first.stats).toMatchObject({ grantedBytes: 64 * KiB, waits: 0, reservations: 1 });
  // The burst went to the first replica: the second's grant waits for the rate to pay for it.
  expect(second.stats).toMatchObject({ grantedBytes: 64 * KiB, waits: 1, reservations: 1 });
  // Another deployment (another key prefix) has a budget of its own.
  expect(elsewhere.stats).toMatchObject({ waits: 0 });
  expect(first.mode).toBe('shared');
});

test('Redis is asked once per grant, not once per chunk', async () => {
  const limiter = new RedisBandwidthLimiter(await connect(redis.prefix('bw-grants')), {
    bytesPerSecond: 10_000_000,
    replicaHint: 3,
    grantBytes: 64 * KiB,
  });
  for (let i = 0; i < 16; i++) await limiter.take(16 * KiB);
  expect(limiter.stats).toMatchObject({ grantedBytes: 256 * KiB, reservations: 4 });
  // A chunk larger than a grant takes as many grants as it needs, in one call.
  await limiter.take(200 * KiB);
  expect(limiter.stats.reservations).toBe(5);
});

test('while Redis is away, a replica caps itself at its share of the rate, and shares again once it is back', async () => {
  const own = await startRedis();
  const client = createRedisClient(own.url, { keyPrefix: 'bw:', connectTimeoutMs: 500, onError: () => undefined });
  try {
    if (client.status !== 'ready') await new Promise<void>((resolve) => client.once('ready', () => resolve()));
    const changes: Array<[LimiterMode, string]> = [];
    const limiter = new RedisBandwidthLimiter(client, {
      bytesPerSecond: 1_000_000,
      replicaHint: 4,
      grantBytes: 64 * KiB,
      retryRedisAfterMs: 50,
      onModeChange: (mode, reason) => changes.push([mode, reason]),
    });
    await limiter.take(64 * KiB);
    expect(limiter.stats).toMatchObject({ reservations: 1, waits: 0 });

    await own.down();
    // A quarter of 1 MB/s, with its 64 KiB burst: the second 64 KiB waits, and Redis is not asked.
    await limiter.take(64 * KiB);
    await limiter.take(64 * KiB);
    expect(limiter.mode).toBe('local');
    expect(limiter.stats).toMatchObject({ grantedBytes: 192 * KiB, waits: 1, reservations: 1 });
    expect(changes).toEqual([['local', expect.stringContaining('capping this replica at MaxBandwidth/4')]]);

    await own.up();
    await until(
      'the limiter to share through Redis again',
      async () => {
        await limiter.take(KiB);
        return limiter.mode === 'shared' ? true : undefined;
      },
      10_000,
      20,
    );
    expect(limiter.stats.reservations).toBe(2);
    expect(changes.at(-1)).toEqual(['shared', expect.stringContaining('Redis answers again')]);
  } finally {
    await client.quit().catch(() => client.disconnect());
    await own.stop();
  }
});

test('the Redis backend gives the engine the shared limiter; SQLite one bucket for the process; 0 none', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'swr-harbor-sync-bandwidth-'));
  const base = await testServiceConfig('127.0.0.1:1', '127.0.0.1:2', join(dir, 'logs'), join(dir, 'data'));
  const log = winston.createLogger({ silent: true });
  const redisRaw = { ...base, QueueBackend: 'redis', RedisURL: redis.url, RedisKeyPrefix: 'bwbackend' };
  const sqliteRaw = { ...base, QueueBackend: 'sqlite' };
  const backends = [
    await openBackend(parseConfig({ ...redisRaw, MaxBandwidth: '20MB/s' }), log),
    await openBackend(parseConfig({ ...sqliteRaw, MaxBandwidth: '100Mbit/s' }), log),
    await openBackend(parseConfig({ ...sqliteRaw, DataDir: join(dir, 'data2') }), log),
  ];
  try {
    expect(backends[0].bandwidth).toBeInstanceOf(RedisBandwidthLimiter);
    expect(backends[0].bandwidth?.bytesPerSecond).toBe(20_000_000);
    expect(backends[1].bandwidth).toBeInstanceOf(ByteBucket);
    expect(backends[1].bandwidth?.bytesPerSecond).toBe(12_500_000);
    expect(backends[2].bandwidth).toBeUndefined();
  } finally {
    for (const backend of backends) await backend.close();
    await rm(dir, { recursive: true, force: true });
  }
});
