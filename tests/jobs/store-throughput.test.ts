// The status page's throughput with a busy hour in the job store: 60,000 jobs finished over the last hour.
// A poll answers the same figures as tallying every job would, and reads per-bucket counters (a few rows)
// instead of loading the jobs themselves.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, expect, jest, test } from '@jest/globals';
import type Database from 'better-sqlite3';
import { SqliteJobStore } from '../../src/sqlite/store.js';
import type { SqliteQueue } from '../../src/sqlite/queue.js';
import type { StatusAnswer } from '../../src/http/status/status-data.js';
import { startHarbor, type HarborStandIn } from '../harness/harbor/index.js';
import { startRegistry, type RunningRegistry } from '../harness/registry.js';
import { startServiceUnderTest, type ServiceUnderTest } from '../harness/service.js';

const JOBS = 60_000;
const BUCKET_MS = 5 * 60 * 1000;
/** Everything a poll may read besides the counters: 50 recent jobs, 5 state counts; and the 12 buckets. */
const ROWS_A_POLL_MAY_READ = 100;

let harbor: HarborStandIn;
let dst: RunningRegistry;
let sut: ServiceUnderTest;
let dataDir: string;

/** One finished job's results as the copy engine records them: copied, skipped or failed, with bytes. */
function results(n: number) {
  const status = n % 10 === 0 ? 'failed' : n % 7 === 0 ? 'skipped' : 'copied';
  const image = (i: number) => ({
    source: `h/proj/app${n}:v${i}`,
    destination: `d/ns/app${n}:v${i}`,
    status,
    platforms: [],
    bytesUploaded: (n % 13) * 1000 + i,
    blobsUploaded: 1,
    blobsMounted: 0,
    blobsSkipped: 0,
    manifestsPushed: 1,
    referrersCopied: 0,
    retries: 0,
    durationMs: 5,
  });
  return n % 3 === 0 ? [image(1), image(2)] : [image(1)];
}

/** The jobs finish through the store's own finish(), spread over the last hour by moving the clock. */
function fillStore(dir: string, now: number): void {
  const store = new SqliteJobStore(dir);
  const insert = store.db.prepare(
    `INSERT INTO jobs (id, kind, state, project, spec, created_at, updated_at, not_before) VALUES (?, 'image', 'running', 'proj', ?, ?, ?, ?)`,
  );
  // From the start of the page's first 5-minute bucket to now: every job is in the hour the page shows.
  const first = (Math.floor(now / BUCKET_MS) - 11) * BUCKET_MS;
  const spec = JSON.stringify({
    kind: 'image',
    project: 'proj',
    repository: 'app',
    digest: `sha256:${'a'.repeat(64)}`,
    tags: ['v1'],
    namespace: 'ns',
  });
  // Only Date is faked: finish() stamps finished_at and its bucket with `new Date()`.
  jest.useFakeTimers({
    doNotFake: [
      'nextTick',
      'setImmediate',
      'clearImmediate',
      'setInterval',
      'clearInterval',
      'setTimeout',
      'clearTimeout',
      'queueMicrotask',
      'hrtime',
      'performance',
    ],
  });
  try {
    store.db.transaction(() => {
      for (let n = 0; n < JOBS; n++) {
        const at = first + Math.floor((n * (now - first)) / JOBS);
        jest.setSystemTime(at);
        const iso = new Date(at).toISOString();
        insert.run(`job-${n}`, spec, iso, iso, iso);
        store.finish(
          `job-${n}`,
          n % 10 === 0 ? 'failed' : n % 7 === 0 ? 'skipped' : 'succeeded',
          results(n),
          n % 10 === 0 ? 'refused' : undefined,
        );
      }
    })();
  } finally {
    jest.useRealTimers();
    store.close();
  }
}

/** What the page showed before, tallied from every job that finished since the first bucket. */
function tallyEveryJob(dir: string, since: string) {
  const store = new SqliteJobStore(dir);
  try {
    const firstStart = Date.parse(since);
    const buckets = Array.from({ length: 12 }, (_, i) => ({
      start: new Date(firstStart + i * BUCKET_MS).toISOString(),
      images: 0,
      bytes: 0,
      jobs: 0,
    }));
    const total = { images: 0, bytes: 0, jobs: 0, failedImages: 0 };
    for (const job of store.finishedSince(new Date(firstStart))) {
      const bucket = buckets[Math.floor((Date.parse(job.finishedAt!) - firstStart) / BUCKET_MS)];
      const images = job.results.filter((r) => r.status === 'copied').length;
      const bytes = job.results.reduce((s, r) => s + r.bytesUploaded, 0);
      bucket.images += images;
      bucket.bytes += bytes;
      bucket.jobs++;
      total.images += images;
      total.bytes += bytes;
      total.jobs++;
      total.failedImages += job.results.filter((r) => r.status === 'failed').length;
    }
    return { buckets, total };
  } finally {
    store.close();
  }
}

/** Rows handed to JavaScript by every statement prepared from now on, until the returned function is called. */
function countRowsRead(db: Database.Database): { rows: () => number; restore: () => void } {
  let rows = 0;
  const prepare = db.prepare.bind(db);
  db.prepare = ((sql: string) => {
    const statement = prepare(sql);
    const all = statement.all.bind(statement);
    const get = statement.get.bind(statement);
    statement.all = (...args: unknown[]) => {
      const out = all(...args);
      rows += out.length;
      return out;
    };
    statement.get = (...args: unknown[]) => {
      const out = get(...args);
      if (out !== undefined) rows++;
      return out;
    };
    return statement;
  }) as typeof db.prepare;
  return { rows: () => rows, restore: () => (db.prepare = prepare) };
}

beforeAll(async () => {
  [harbor, dst] = await Promise.all([startHarbor({ projects: [{ name: 'proj', public: false }] }), startRegistry()]);
  dataDir = await mkdtemp(join(tmpdir(), 'swr-harbor-sync-throughput-'));
  const started = performance.now();
  fillStore(dataDir, Date.now());
  console.log(`filled the store with ${JOBS} finished jobs in ${Math.round(performance.now() - started)} ms`);
  // Retention well above the jobs here: this test is about reading them, not about pruning them.
  sut = await startServiceUnderTest(harbor.host, dst.host, {
    QueueBackend: 'sqlite',
    DataDir: dataDir,
    JobRetentionCount: '1000000',
  });
}, 300_000);

afterAll(async () => {
  await sut?.stop();
  await Promise.all([harbor?.stop(), dst?.stop()]);
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

test(`a status poll over ${JOBS} jobs finished in the last hour: the same throughput as tallying every job, from a few rows`, async () => {
  const db = (sut.running.service.queue as SqliteQueue).store.db;
  const counted = countRowsRead(db);
  let answer: StatusAnswer;
  const started = performance.now();
  try {
    const res = await fetch(`${sut.url}/api/v1/status`);
    expect(res.status).toBe(200);
    answer = (await res.json()) as StatusAnswer;
  } finally {
    counted.restore();
  }
  console.log(
    `status poll with ${JOBS} finished jobs in the last hour: ${Math.round(performance.now() - started)} ms, ${counted.rows()} rows read`,
  );

  const expected = tallyEveryJob(dataDir, answer.throughput.since);
  // All of them, unless a bucket boundary passed between filling the store and the poll (then the oldest bucket's fell out).
  expect(expected.total.jobs).toBeGreaterThan(JOBS * 0.9);
  expect(answer.throughput.buckets).toEqual(expected.buckets);
  expect(answer.throughput.total).toEqual(expected.total);
  expect(answer.counts).toMatchObject({ succeeded: expect.any(Number), failed: 6000 });
  expect(counted.rows()).toBeLessThanOrEqual(ROWS_A_POLL_MAY_READ);

  // For the record, not asserted: /healthz answered while five pages poll at once.
  const t0 = performance.now();
  const polls = Array.from({ length: 5 }, () => fetch(`${sut.url}/api/v1/status`).then((r) => r.arrayBuffer()));
  const health = await fetch(`${sut.url}/healthz`).then(async (r) => (await r.arrayBuffer(), performance.now() - t0));
  await Promise.all(polls);
  console.log(
    `five concurrent polls: /healthz answered in ${Math.round(health)} ms, all polls in ${Math.round(performance.now() - t0)} ms`,
  );
});
