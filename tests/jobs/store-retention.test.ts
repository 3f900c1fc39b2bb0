// The job store shrinks: finished jobs past JobRetentionDays or beyond JobRetentionCount are deleted in
// bounded batches, with turns for the event loop between them; queued and running jobs, pending pushes and
// the blob location index stay. (The Redis backend: store-retention-redis.test.ts.)
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import winston from 'winston';
import { parseConfig } from '../../src/config/config.js';
import { pruneBatch, pruneFinishedJobs } from '../../src/sqlite/prune.js';
import { SqliteQueue } from '../../src/sqlite/queue.js';
import { SqliteJobStore } from '../../src/sqlite/store.js';
import type { JobState } from '../../src/jobs/types.js';
import { until } from '../harness/until.js';

const DAY = 24 * 3600 * 1000;
const log = winston.createLogger({ silent: true });
let dir: string;
let store: SqliteJobStore | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'swr-harbor-sync-retention-'));
});

afterEach(async () => {
  store?.close();
  store = undefined;
  await rm(dir, { recursive: true, force: true });
});

/** Jobs written as the store writes them, with the times a test needs. */
function addJobs(s: SqliteJobStore, prefix: string, n: number, state: JobState, at: (i: number) => number): string[] {
  const insert = s.db.prepare(
    `INSERT INTO jobs (id, kind, state, project, spec, created_at, updated_at, finished_at, not_before) VALUES (?, 'project', ?, 'p', '{}', ?, ?, ?, ?)`,
  );
  const final = state !== 'queued' && state !== 'running';
  const ids = Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(5, '0')}`);
  s.db.transaction(() =>
    ids.forEach((id, i) => {
      const iso = new Date(at(i)).toISOString();
      insert.run(
        id,
        state,
        iso,
        iso,
        final ? iso : null,
        state === 'queued' ? new Date(Date.now() + DAY).toISOString() : iso,
      );
    }),
  )();
  return ids;
}

const ids = (s: SqliteJobStore) =>
  (s.db.prepare('SELECT id FROM jobs ORDER BY id').all() as Array<{ id: string }>).map((r) => r.id);

describe('SQLite', () => {
  test('past JobRetentionDays: finished jobs go; queued and running jobs, pending pushes, blob locations stay', async () => {
    store = new SqliteJobStore(dir);
    const now = Date.now();
    const old = [
      ...addJobs(store, 'old-ok', 10, 'succeeded', () => now - 8 * DAY),
      ...addJobs(store, 'old-failed', 10, 'failed', () => now - 8 * DAY),
      ...addJobs(store, 'old-skipped', 10, 'skipped', () => now - 30 * DAY),
    ];
    const recent = addJobs(store, 'recent', 20, 'succeeded', () => now - 6 * DAY);
    const waiting = [
      ...addJobs(store, 'queued', 3, 'queued', () => now - 30 * DAY),
      ...addJobs(store, 'running', 2, 'running', () => now - 30 * DAY),
    ];
    store.addPendingPush({ project: 'p', repository: 'r', digest: `sha256:${'b'.repeat(64)}`, namespace: 'n' });
    store.db.prepare('UPDATE pending_pushes SET received_at = ?').run(new Date(now - 30 * DAY).toISOString());
    store.db
      .prepare('INSERT INTO blob_locations (registry, digest, repository, seen_at) VALUES (?, ?, ?, ?)')
      .run('dst', 'sha256:c', 'ns/app', now - 30 * DAY);
    const deleted = await pruneFinishedJobs(store.db, { days: 7, count: 10_000 });
    expect(deleted).toBe(old.length);
    expect(ids(store)).toEqual([...recent, ...waiting].sort());
    expect(store.pendingPushesBefore(new Date())).toHaveLength(1);
    expect(store.db.prepare('SELECT COUNT(*) AS n FROM blob_locations').get()).toEqual({ n: 1 });
  });

  test('beyond JobRetentionCount: the oldest finished go, 500 a transaction, the event loop gets turns in between', async () => {
    store = new SqliteJobStore(dir);
    const now = Date.now();
    const finished = addJobs(store, 'done', 2600, 'succeeded', (i) => now - 3600_000 + i * 1000);
    const queued = addJobs(store, 'queued', 5, 'queued', () => now - 2 * DAY);
    // One batch deletes at most its size, whatever is due.
    expect(pruneBatch(store.db, { days: 7, count: 1000 })).toBe(500);
    // Something else waiting for the event loop: it runs once per turn the pruning gives it.
    let turns = 0;
    let ticking = true;
    const tick = () => {
      if (!ticking) return;
      turns++;
      setImmediate(tick);
    };
    setImmediate(tick);
    const deleted = await pruneFinishedJobs(store.db, { days: 7, count: 1000 });
    ticking = false;
    expect(deleted).toBe(1100);
    // 1,100 rows in batches of 500: the loop ran between the batches.
    expect(turns).toBeGreaterThanOrEqual(2);
    expect(ids(store)).toEqual([...finished.slice(-1000), ...queued].sort());
  });

  test('the queue prunes when it starts, with the configured numbers; the throughput of the hour is kept', async () => {
    store = new SqliteJobStore(dir);
    const now = Date.now();
    addJobs(store, 'done', 12, 'succeeded', (i) => now - 60_000 + i);
    const [queued] = addJobs(store, 'queued', 1, 'queued', () => now);
    const job = store.enqueue({ kind: 'project', project: 'p', namespace: 'n' }, undefined);
    store.db.prepare('UPDATE jobs SET state = ? WHERE id = ?').run('running', job.job.id);
    store.finish(job.job.id, 'succeeded', [{ status: 'copied', bytesUploaded: 42 }]);
    store.close();
    store = undefined;
    const queue = new SqliteQueue(dir, { concurrency: 1, retries: 0 }, log, { days: 7, count: 5 });
    try {
      await queue.start({ handler: async () => ({ results: [] }) });
      await until(
        'pruned to 5 finished jobs',
        async () => ((await queue.counts()).succeeded === 5 ? true : undefined),
        10_000,
      );
      expect(await queue.get(queued)).toMatchObject({ state: 'queued' });
      const rows = await queue.throughputSince(new Date(now - 3600_000));
      expect(rows.reduce((n, r) => n + r.bytes, 0)).toBe(42);
    } finally {
      await queue.stop(0);
      await queue.close();
    }
  });

  test('JobRetentionDays, JobRetentionCount: defaults 7 and 10,000; bad values are named', () => {
    const base = {
      NamespaceMap: 'library:mycompany',
      HWAuthMethod: 'AKSK',
      HWAK: 'AKEXAMPLE0000000001',
      HWSK: 'sk-example-value-000000001',
      RegionName: 'cn-north-4',
      HarborAddr: 'harbor.example.com',
    };
    expect(parseConfig(base).jobRetention).toEqual({ days: 7, count: 10_000 });
    expect(parseConfig({ ...base, JobRetentionDays: '30', JobRetentionCount: '500' }).jobRetention).toEqual({
      days: 30,
      count: 500,
    });
    expect(() => parseConfig({ ...base, JobRetentionDays: '0' })).toThrow(
      /JobRetentionDays must be a whole number from 1 to 3650, got "0"/,
    );
    expect(() => parseConfig({ ...base, JobRetentionCount: 'all' })).toThrow(
      /JobRetentionCount must be a whole number from 1 to 10000000, got "all"/,
    );
  });
});
