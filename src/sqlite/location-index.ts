// The copy engine's destination location index (digest -> repositories) kept in the job store's database,
// so mounts keep working across restarts.
import type Database from 'better-sqlite3';
import type { LocationIndex } from '../copy/index.js';

export class SqliteLocationIndex implements LocationIndex {
  constructor(private readonly db: Database.Database) {}

  async has(registry: string, digest: string, repository: string): Promise<boolean> {
    return (
      this.db
        .prepare('SELECT 1 FROM blob_locations WHERE registry = ? AND digest = ? AND repository = ?')
        .get(registry, digest, repository) !== undefined
    );
  }

  async candidates(registry: string, digest: string, limit: number): Promise<string[]> {
    const rows = this.db
      .prepare('SELECT repository FROM blob_locations WHERE registry = ? AND digest = ? ORDER BY seen_at DESC LIMIT ?')
      .all(registry, digest, limit) as Array<{ repository: string }>;
    return rows.map((r) => r.repository);
  }

  async record(registry: string, digest: string, repository: string): Promise<void> {
    this.db
      .prepare(
        'INSERT INTO blob_locations (registry, digest, repository, seen_at) VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET seen_at = excluded.seen_at',
      )
      .run(registry, digest, repository, Date.now());
  }

  async forget(registry: string, digest: string, repository: string): Promise<void> {
    this.db
      .prepare('DELETE FROM blob_locations WHERE registry = ? AND digest = ? AND repository = ?')
      .run(registry, digest, repository);
  }
}
