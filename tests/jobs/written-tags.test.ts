// The record of tags the service wrote, in both backends (SQLite in a temp DataDir, Redis on a real
// redis-server): the same answers for the same calls, a namespace never reads its neighbours' tags (a name
// that is a prefix of another, '_' that SQL's LIKE would read as a wildcard), and the record outlives job
// retention's pruning.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { Redis } from 'ioredis';
import type { WrittenTag, WrittenTags } from '../../src/jobs/written-tags.js';
import { createRedisClient } from '../../src/redis/connection.js';
import { RedisWrittenTags, writtenKey } from '../../src/redis/written-tags.js';
import { SqliteJobStore } from '../../src/sqlite/store.js';
import { SqliteWrittenTags } from '../../src/sqlite/written-tags.js';
import { pruneFinishedJobs } from '../../src/sqlite/prune.js';
import { startRedis, type RunningRedis } from '../harness/redis.js';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const D3 = `sha256:${'3'.repeat(64)}`;
const HOST = 'swr.cn-north-4.myhuaweicloud.com';

let dir: string;
let store: SqliteJobStore;
let redis: RunningRedis;
let client: Redis;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'swr-harbor-sync-written-'));
  store = new SqliteJobStore(dir);
  redis = await startRedis();
  client = createRedisClient(redis.url, { keyPrefix: 'wt:' });
});

afterAll(async () => {
  await client?.quit().catch(() => client.disconnect());
  await redis?.stop();
  store?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const tag = (
  repository: string,
  name: string,
  digest: string,
  sourceDigest = digest,
  project = 'proj',
): WrittenTag => ({
  destination: HOST,
  repository,
  tag: name,
  digest,
  sourceDigest,
  project,
});

describe.each([
  ['SQLite', () => new SqliteWrittenTags(store.db) as WrittenTags],
  ['Redis', () => new RedisWrittenTags(client) as WrittenTags],
])('%s', (_name, make) => {
  test('records, finds by source digest and by namespace, replaces a rewritten tag, forgets', async () => {
    const written = make();
    await written.record(tag('ns/app', 'v1', D1));
    await written.record(tag('ns/app', 'latest', D1));
    // Converted to Docker format: another digest at the destination, found by the source's.
    await written.record(tag('ns/team/api', 'v2', D3, D2));
    await written.record(tag('ns2/app', 'v1', D1)); // a namespace whose name starts with "ns"
    await written.record(tag('ns_x/app', 'v1', D1)); // '_' is a wildcard to LIKE
    await written.record(tag('ns/app', 'v1', D1, D1, 'other')); // written again, from another project

    expect((await written.bySource(HOST, 'ns/app', D1)).map((t) => [t.tag, t.project])).toEqual([
      ['latest', 'proj'],
      ['v1', 'other'],
    ]);
    expect(await written.bySource(HOST, 'ns/team/api', D2)).toEqual([tag('ns/team/api', 'v2', D3, D2)]);
    expect(await written.bySource(HOST, 'ns/team/api', D3)).toEqual([]);
    expect(await written.bySource('other.host', 'ns/app', D1)).toEqual([]);
    expect((await written.inNamespace(HOST, 'ns')).map((t) => `${t.repository}:${t.tag}`)).toEqual([
      'ns/app:latest',
      'ns/app:v1',
      'ns/team/api:v2',
    ]);
    expect((await written.inNamespace(HOST, 'ns_x')).map((t) => t.repository)).toEqual(['ns_x/app']);

    await written.forget(HOST, 'ns/app', 'latest');
    await written.forget(HOST, 'ns/app', 'v1');
    await written.forget(HOST, 'ns/app', 'never-written');
    expect(await written.bySource(HOST, 'ns/app', D1)).toEqual([]);
    expect((await written.inNamespace(HOST, 'ns')).map((t) => t.repository)).toEqual(['ns/team/api']);
  });
});

test('job retention prunes jobs, never the record (SQLite); the Redis keys never expire', async () => {
  const written = new SqliteWrittenTags(store.db);
  await written.record(tag('kept/app', 'v1', D1));
  const { job } = store.enqueue(
    { kind: 'image', project: 'proj', repository: 'app', digest: D1, tags: ['v1'], namespace: 'kept' },
    undefined,
  );
  store.finish(job.id, 'succeeded', []);
  await pruneFinishedJobs(store.db, { days: 0, count: 1 }, new Date(Date.now() + 86_400_000));
  expect(store.get(job.id)).toBeUndefined();
  expect(await written.bySource(HOST, 'kept/app', D1)).toEqual([tag('kept/app', 'v1', D1)]);

  await new RedisWrittenTags(client).record(tag('kept/app', 'v1', D1));
  expect(await client.ttl(writtenKey(HOST, 'kept/app'))).toBe(-1);
});
