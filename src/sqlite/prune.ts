// Owns shrinking the embedded job store: finished jobs (succeeded, failed, skipped) older than
// JobRetentionDays, or beyond the newest JobRetentionCount, are deleted a bounded batch at a time, so a
// large backlog never becomes one long DELETE that stalls webhooks and /healthz. Queued and running jobs,
// pending pushes and the blob location index are never touched.
import { setImmediate as nextTurn } from 'node:timers/promises';
import type Database from 'better-sqlite3';
import type winston from 'winston';
import type { JobRetention } from '../jobs/retention.js';
import { dropCountersBefore } from './throughput-rows.js';

/** Rows deleted per transaction; the event loop gets a turn between two batches. */
export const PRUNE_BATCH = 500;
export const PRUNE_EVERY_MS = 10 * 60 * 1000;
/** Throughput counters outlive the status page's hour by a margin, then go. */
const THROUGHPUT_KEPT_MS = 24 * 60 * 60 * 1000;

const FINAL = `state IN ('succeeded', 'failed', 'skipped')`;

/** One batch: first jobs past their age, then the oldest beyond the count. Returns how many went. */
export function pruneBatch(
  db: Database.Database,
  retention: JobRetention,
  now = new Date(),
  batch = PRUNE_BATCH,
): number {
  return db.transaction(() => {
    const cutoff = new Date(now.getTime() - retention.days * 24 * 3600 * 1000).toISOString();
    let deleted = db
      .prepare(
        `DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE ${FINAL} AND finished_at < ? ORDER BY finished_at LIMIT ?)`,
      )
      .run(cutoff, batch).changes;
    if (deleted < batch) {
      deleted += db
        .prepare(
          `DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE ${FINAL} ORDER BY finished_at DESC, id DESC LIMIT ? OFFSET ?)`,
        )
        .run(batch - deleted, retention.count).changes;
    }
    return deleted;
  })();
}

/** Deletes every job the retention lets go, batch after batch; returns how many. */
export async function pruneFinishedJobs(
  db: Database.Database,
  retention: JobRetention,
  now = new Date(),
  batch = PRUNE_BATCH,
): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = pruneBatch(db, retention, now, batch);
    total += deleted;
    if (deleted < batch) break;
    await nextTurn();
  }
  dropCountersBefore(db, now.getTime() - THROUGHPUT_KEPT_MS);
  return total;
}

/** Prunes now and every `everyMs` until the returned function is called; one pass at a time. */
export function schedulePruning(
  db: Database.Database,
  retention: JobRetention,
  log: winston.Logger,
  everyMs = PRUNE_EVERY_MS,
): () => void {
  let running = false;
  let stopped = false;
  const pass = () => {
    if (running || stopped) return;
    running = true;
    pruneFinishedJobs(db, retention)
      .then(
        (n) =>
          n > 0 &&
          log.info(
            `job store: deleted ${n} finished job(s) past JobRetentionDays=${retention.days} or JobRetentionCount=${retention.count}`,
          ),
      )
      .catch((error: Error) => !stopped && log.error(`job store: pruning finished jobs failed: ${error.message}`))
      .finally(() => (running = false));
  };
  const timer = setInterval(pass, everyMs);
  timer.unref();
  pass();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
