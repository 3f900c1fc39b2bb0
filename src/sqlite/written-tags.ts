// The record of tags the service wrote (jobs/written-tags.ts) in the job store's database, table written_tags.
import type Database from 'better-sqlite3';
import type { WrittenTag, WrittenTags } from '../jobs/written-tags.js';

interface Row {
  destination: string;
  repository: string;
  tag: string;
  digest: string;
  source_digest: string;
  project: string;
}

function toTag(row: Row): WrittenTag {
  return {
    destination: row.destination,
    repository: row.repository,
    tag: row.tag,
    digest: row.digest,
    sourceDigest: row.source_digest,
    project: row.project,
  };
}

export class SqliteWrittenTags implements WrittenTags {
  constructor(private readonly db: Database.Database) {}

  async record(tag: WrittenTag): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO written_tags (destination, repository, tag, digest, source_digest, project, written_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (destination, repository, tag) DO UPDATE SET digest = excluded.digest, source_digest = excluded.source_digest, project = excluded.project, written_at = excluded.written_at`,
      )
      .run(
        tag.destination,
        tag.repository,
        tag.tag,
        tag.digest,
        tag.sourceDigest,
        tag.project,
        new Date().toISOString(),
      );
  }

  async bySource(destination: string, repository: string, sourceDigest: string): Promise<WrittenTag[]> {
    const rows = this.db
      .prepare('SELECT * FROM written_tags WHERE destination = ? AND repository = ? AND source_digest = ? ORDER BY tag')
      .all(destination, repository, sourceDigest) as Row[];
    return rows.map(toTag);
  }

  async inNamespace(destination: string, namespace: string): Promise<WrittenTag[]> {
    // A range rather than LIKE: namespaces may hold '_', which LIKE reads as a wildcard.
    const rows = this.db
      .prepare(
        'SELECT * FROM written_tags WHERE destination = ? AND repository >= ? AND repository < ? ORDER BY repository, tag',
      )
      .all(destination, `${namespace}/`, `${namespace}0`) as Row[];
    return rows.map(toTag);
  }

  async forget(destination: string, repository: string, tag: string): Promise<void> {
    this.db
      .prepare('DELETE FROM written_tags WHERE destination = ? AND repository = ? AND tag = ?')
      .run(destination, repository, tag);
  }
}
