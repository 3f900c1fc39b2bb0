// Owns proving that the job store can be written: a one-row upsert committed through the store's own
// connection, so that a read-only or full disk shows here as it would to the next webhook.
import type Database from 'better-sqlite3';

/** Returns a probe that throws when the store cannot take a write. */
export function storeWriteProbe(db: Database.Database): () => void {
  let upsert: Database.Statement | undefined;
  return () => {
    if (!upsert) {
      db.exec('CREATE TABLE IF NOT EXISTS readiness_probe (id INTEGER PRIMARY KEY CHECK (id = 1), probed_at TEXT NOT NULL)');
      upsert = db.prepare('INSERT INTO readiness_probe (id, probed_at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET probed_at = excluded.probed_at');
    }
    // A read would succeed on a disk gone read-only; only a committed write (synchronous=FULL: it is synced) proves it.
    upsert.run(new Date().toISOString());
  };
}
