// The embedded job store: SQLite in DataDir (WAL, synchronous=FULL) so an accepted event survives a crash.
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { mapStrings, oneLine } from '../logging/one-line.js';
import { answerDuplicate, duplicateWindowStart } from '../jobs/policy.js';
import { THROUGHPUT_WINDOW_MS, type ThroughputRow } from '../jobs/throughput.js';
import type { EnqueueOutcome, Job, JobFilter, JobSpec, JobState, JobStore, PendingPush } from '../jobs/types.js';
import { backfillCounters, countersSince, countFinished } from './throughput-rows.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  state TEXT NOT NULL,
  project TEXT NOT NULL,
  spec TEXT NOT NULL,
  dedupe_key TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  started_at TEXT,
  finished_at TEXT,
  not_before TEXT NOT NULL,
  error TEXT,
  results TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX IF NOT EXISTS jobs_runnable ON jobs (state, not_before);
CREATE INDEX IF NOT EXISTS jobs_dedupe ON jobs (dedupe_key, state);
CREATE INDEX IF NOT EXISTS jobs_project ON jobs (project, created_at);
CREATE INDEX IF NOT EXISTS jobs_finished ON jobs (finished_at);
CREATE INDEX IF NOT EXISTS jobs_created ON jobs (created_at);
CREATE TABLE IF NOT EXISTS pending_pushes (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  project TEXT NOT NULL,
  repository TEXT NOT NULL,
  digest TEXT NOT NULL,
  namespace TEXT NOT NULL,
  received_at TEXT NOT NULL,
  UNIQUE (project, repository, digest)
);
CREATE TABLE IF NOT EXISTS readiness_probe (id INTEGER PRIMARY KEY CHECK (id = 1), probed_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS blob_locations (
  registry TEXT NOT NULL,
  digest TEXT NOT NULL,
  repository TEXT NOT NULL,
  seen_at INTEGER NOT NULL,
  PRIMARY KEY (registry, digest, repository)
);
-- What the service wrote at destinations (deletions touch only these); never pruned with the jobs.
CREATE TABLE IF NOT EXISTS written_tags (
  destination TEXT NOT NULL,
  repository TEXT NOT NULL,
  tag TEXT NOT NULL,
  digest TEXT NOT NULL,
  source_digest TEXT NOT NULL,
  project TEXT NOT NULL,
  written_at TEXT NOT NULL,
  PRIMARY KEY (destination, repository, tag)
);
CREATE INDEX IF NOT EXISTS written_tags_source ON written_tags (destination, repository, source_digest);
CREATE TABLE IF NOT EXISTS throughput (
  bucket_start INTEGER PRIMARY KEY,
  jobs INTEGER NOT NULL,
  images INTEGER NOT NULL,
  bytes INTEGER NOT NULL,
  failed_images INTEGER NOT NULL
);
`;

interface Row {
  id: string;
  kind: string;
  state: string;
  project: string;
  spec: string;
  attempts: number;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  finished_at: string | null;
  not_before: string;
  error: string | null;
  results: string;
}

function toJob(row: Row): Job {
  return {
    id: row.id,
    kind: row.kind as Job['kind'],
    state: row.state as JobState,
    project: row.project,
    spec: JSON.parse(row.spec) as JobSpec,
    attempts: row.attempts,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    startedAt: row.started_at ?? undefined,
    finishedAt: row.finished_at ?? undefined,
    notBefore: row.not_before,
    error: row.error ?? undefined,
    results: JSON.parse(row.results) as Job['results'],
  };
}

/** Results as stored: the messages in them come from registries and Harbor, so each is one capped line. */
function storedResults(results: unknown[]): string {
  return JSON.stringify(mapStrings(results, (text) => oneLine(text)));
}

export class SqliteJobStore implements JobStore {
  readonly db: Database.Database;

  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true });
    this.db = new Database(join(dataDir, 'jobs.sqlite'));
    this.db.pragma('journal_mode = WAL');
    // FULL: a job the webhook acknowledged must be on disk even if the machine loses power right after; the
    // queue's GroupCommit makes that one fsync per group of concurrent webhooks rather than one each.
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    const hadCounters =
      this.db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'throughput'`).get() !== undefined;
    this.db.exec(SCHEMA);
    if (!hadCounters) backfillCounters(this.db, this.finishedSince(new Date(Date.now() - THROUGHPUT_WINDOW_MS)));
  }

  enqueue(spec: JobSpec, dedupeKey: string | undefined, notBefore = new Date()): EnqueueOutcome {
    return this.db.transaction((): EnqueueOutcome => {
      const now = new Date().toISOString();
      if (dedupeKey) {
        // The jobs that still answer duplicates (policy.answersDuplicates), newest first.
        const existing = this.db
          .prepare(
            `SELECT * FROM jobs WHERE dedupe_key = ? AND (state IN ('queued','running') OR (state = 'succeeded' AND finished_at > ?)) ORDER BY created_at DESC LIMIT 1`,
          )
          .get(dedupeKey, new Date(duplicateWindowStart(Date.now())).toISOString()) as Row | undefined;
        if (existing) {
          const job = toJob(existing);
          const answer = answerDuplicate(job, spec);
          if (answer.join === 'as-is') return { job, merged: true };
          if (answer.join === 'with-tags') {
            this.db
              .prepare('UPDATE jobs SET spec = ?, updated_at = ? WHERE id = ?')
              .run(JSON.stringify(answer.spec), now, job.id);
            return { job: { ...job, spec: answer.spec }, merged: true };
          }
        }
      }
      const id = randomUUID();
      this.db
        .prepare(
          `INSERT INTO jobs (id, kind, state, project, spec, dedupe_key, created_at, updated_at, not_before) VALUES (?, ?, 'queued', ?, ?, ?, ?, ?, ?)`,
        )
        .run(id, spec.kind, spec.project, JSON.stringify(spec), dedupeKey ?? null, now, now, notBefore.toISOString());
      return { job: this.get(id)!, merged: false };
    })();
  }

  addPendingPush(push: Omit<PendingPush, 'id' | 'receivedAt'>): void {
    this.db
      .prepare(
        'INSERT OR IGNORE INTO pending_pushes (project, repository, digest, namespace, received_at) VALUES (?, ?, ?, ?, ?)',
      )
      .run(push.project, push.repository, push.digest, push.namespace, new Date().toISOString());
  }

  pendingPushesBefore(cutoff: Date): PendingPush[] {
    const rows = this.db
      .prepare('SELECT * FROM pending_pushes WHERE received_at <= ? ORDER BY id LIMIT 500')
      .all(cutoff.toISOString()) as Array<Record<string, unknown>>;
    return rows.map((r) => ({
      id: String(r.id),
      project: r.project as string,
      repository: r.repository as string,
      digest: r.digest as string,
      namespace: r.namespace as string,
      receivedAt: r.received_at as string,
    }));
  }

  removePendingPush(id: string): void {
    this.db.prepare('DELETE FROM pending_pushes WHERE id = ?').run(Number(id));
  }

  claimNext(now: Date): Job | undefined {
    return this.db.transaction(() => {
      const row = this.db
        .prepare(
          `SELECT * FROM jobs WHERE state = 'queued' AND not_before <= ? ORDER BY not_before, created_at LIMIT 1`,
        )
        .get(now.toISOString()) as Row | undefined;
      if (!row) return undefined;
      const stamp = new Date().toISOString();
      this.db
        .prepare(
          `UPDATE jobs SET state = 'running', attempts = attempts + 1, started_at = ?, updated_at = ? WHERE id = ?`,
        )
        .run(stamp, stamp, row.id);
      return toJob({ ...row, state: 'running', attempts: row.attempts + 1, started_at: stamp, updated_at: stamp });
    })();
  }

  finish(id: string, state: Exclude<JobState, 'queued' | 'running'>, results: unknown[], error?: string): void {
    const at = new Date();
    const now = at.toISOString();
    this.db.transaction(() => {
      const changed = this.db
        .prepare('UPDATE jobs SET state = ?, results = ?, error = ?, finished_at = ?, updated_at = ? WHERE id = ?')
        .run(state, storedResults(results), error === undefined ? null : oneLine(error), now, now, id).changes;
      if (changed === 0) return;
      countFinished(this.db, at, results);
    })();
  }

  retryLater(id: string, notBefore: Date, results: unknown[], error: string): void {
    const now = new Date().toISOString();
    this.db
      .prepare(`UPDATE jobs SET state = 'queued', results = ?, error = ?, not_before = ?, updated_at = ? WHERE id = ?`)
      .run(storedResults(results), oneLine(error), notBefore.toISOString(), now, id);
  }

  requeueRunning(): number {
    return this.db
      .prepare(`UPDATE jobs SET state = 'queued', updated_at = ? WHERE state = 'running'`)
      .run(new Date().toISOString()).changes;
  }

  get(id: string): Job | undefined {
    const row = this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as Row | undefined;
    return row ? toJob(row) : undefined;
  }

  list(filter: JobFilter): Job[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.state) {
      where.push('state = ?');
      args.push(filter.state);
    }
    if (filter.project) {
      where.push('project = ?');
      args.push(filter.project);
    }
    const sql = `SELECT * FROM jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args, filter.limit ?? 100) as Row[]).map(toJob);
  }

  finishedSince(since: Date): Job[] {
    // finished_at is only ever written by finish(), in the same ISO form, so a range on jobs_finished is exact.
    return (
      this.db
        .prepare('SELECT * FROM jobs WHERE finished_at >= ? ORDER BY finished_at')
        .all(since.toISOString()) as Row[]
    ).map(toJob);
  }

  throughputSince(since: Date): ThroughputRow[] {
    return countersSince(this.db, since);
  }

  counts(): Record<JobState, number> {
    const out: Record<JobState, number> = { queued: 0, running: 0, succeeded: 0, failed: 0, skipped: 0 };
    for (const row of this.db.prepare('SELECT state, COUNT(*) AS n FROM jobs GROUP BY state').all() as Array<{
      state: JobState;
      n: number;
    }>)
      out[row.state] = row.n;
    return out;
  }

  /** A committed one-row write: a read would succeed on a disk gone read-only, only a write proves it (readiness). */
  probeWrite(): void {
    this.db
      .prepare(
        'INSERT INTO readiness_probe (id, probed_at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET probed_at = excluded.probed_at',
      )
      .run(new Date().toISOString());
  }

  close(): void {
    this.db.close();
  }
}
