// Group commit of the SQLite queue's intake: concurrent enqueues share one transaction (counted, not timed),
// each promise resolves only once its transaction is on disk (a second connection sees it), duplicates in one
// group join one job, and a failing write rejects alone.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from '@jest/globals';
import Database from 'better-sqlite3';
import winston from 'winston';
import { SqliteQueue } from '../../src/sqlite/queue.js';
import type { ImageJobSpec } from '../../src/jobs/types.js';

const log = winston.createLogger({ silent: true });
let dir: string;
let queue: SqliteQueue;
let reader: Database.Database;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'swr-harbor-sync-group-commit-'));
  queue = new SqliteQueue(dir, { concurrency: 1, retries: 0 }, log);
  // Another connection: it sees only what was committed.
  reader = new Database(join(dir, 'jobs.sqlite'), { readonly: true });
});

afterEach(async () => {
  reader.close();
  await queue.close();
  await rm(dir, { recursive: true, force: true });
});

function imageSpec(repository: string, tag: string): ImageJobSpec {
  return {
    kind: 'image',
    project: 'proj',
    repository,
    digest: `sha256:${'a'.repeat(64)}`,
    tags: [tag],
    namespace: 'ns',
  };
}

const committed = (id: string) => reader.prepare('SELECT id FROM jobs WHERE id = ?').get(id) !== undefined;

test('200 concurrent webhooks make one commit, and each answer comes after the commit holding its job', async () => {
  const seenAtAnswer: boolean[] = [];
  const outcomes = await Promise.all(
    Array.from({ length: 200 }, (_, i) =>
      queue.enqueue(imageSpec(`repo${i}`, 'v1'), `key-${i}`).then((outcome) => {
        seenAtAnswer.push(committed(outcome.job.id));
        return outcome;
      }),
    ),
  );
  expect(new Set(outcomes.map((o) => o.job.id)).size).toBe(200);
  expect(seenAtAnswer).toEqual(Array.from({ length: 200 }, () => true));
  expect(queue.groupCommit.stats).toEqual({ commits: 1, writes: 200 });
});

test('writes asked for while a group is being written wait for the next group: one commit per group, not per write', async () => {
  const first = Array.from({ length: 50 }, (_, i) => queue.enqueue(imageSpec(`a${i}`, 'v1'), `a-${i}`));
  // Asked for after the first group was scheduled, as webhooks read during its commit would be.
  await new Promise((resolve) => setImmediate(resolve));
  const second = Array.from({ length: 50 }, (_, i) => queue.enqueue(imageSpec(`b${i}`, 'v1'), `b-${i}`));
  await Promise.all([...first, ...second]);
  expect(queue.groupCommit.stats).toEqual({ commits: 2, writes: 100 });
  expect((reader.prepare('SELECT COUNT(*) AS n FROM jobs').get() as { n: number }).n).toBe(100);
});

test('duplicates in one group join one job, with every tag', async () => {
  const outcomes = await Promise.all(
    Array.from({ length: 30 }, (_, i) => queue.enqueue(imageSpec('same', `t${i % 3}`), 'same-key')),
  );
  expect(queue.groupCommit.stats.commits).toBe(1);
  expect(new Set(outcomes.map((o) => o.job.id)).size).toBe(1);
  expect(outcomes.filter((o) => !o.merged)).toHaveLength(1);
  const stored = reader.prepare("SELECT spec FROM jobs WHERE dedupe_key = 'same-key'").all() as Array<{
    spec: string;
  }>;
  expect(stored).toHaveLength(1);
  expect((JSON.parse(stored[0].spec) as ImageJobSpec).tags.sort()).toEqual(['t0', 't1', 't2']);
});

test('pending pushes share the group; a write that fails is rolled back alone and the others commit', async () => {
  const results = await Promise.allSettled([
    queue.enqueue(imageSpec('ok1', 'v1'), 'ok1'),
    queue.addPendingPush({
      project: 'proj',
      repository: 'untagged',
      digest: `sha256:${'b'.repeat(64)}`,
      namespace: 'ns',
    }),
    queue.groupCommit.run(() => {
      queue.store.db
        .prepare(
          "INSERT INTO pending_pushes (project, repository, digest, namespace, received_at) VALUES ('x','y','z','n','t')",
        )
        .run();
      throw new Error('this write fails after writing');
    }),
    queue.enqueue(imageSpec('ok2', 'v1'), 'ok2'),
  ]);
  expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
  expect(queue.groupCommit.stats).toEqual({ commits: 1, writes: 4 });
  expect((reader.prepare('SELECT COUNT(*) AS n FROM jobs').get() as { n: number }).n).toBe(2);
  expect(reader.prepare('SELECT repository FROM pending_pushes').all()).toEqual([{ repository: 'untagged' }]);
});

test('a group whose commit fails rejects every write in it, and nothing of it is stored', async () => {
  reader.close();
  await queue.close();
  const results = await Promise.allSettled([
    queue.enqueue(imageSpec('late1', 'v1'), 'late1'),
    queue.enqueue(imageSpec('late2', 'v1'), 'late2'),
  ]);
  expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  expect(queue.groupCommit.stats.commits).toBe(0);
  // afterEach closes them again.
  queue = new SqliteQueue(dir, { concurrency: 1, retries: 0 }, log);
  reader = new Database(join(dir, 'jobs.sqlite'), { readonly: true });
  expect((reader.prepare('SELECT COUNT(*) AS n FROM jobs').get() as { n: number }).n).toBe(0);
});
