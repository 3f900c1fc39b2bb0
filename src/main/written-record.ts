// Opens the record of tags the service wrote (jobs/written-tags.ts) for a command that runs without the service
// (`sync`): the service's own store, so that what the command writes can be deleted later like what the service
// writes, and its dry run lists deletions. SQLite only where the service already keeps its store (DataDir holds
// jobs.sqlite): a command never makes one of its own.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/config.js';
import type { WrittenTags } from '../jobs/written-tags.js';
import { maskRedisUrl } from '../config/redis-url.js';
import { createRedisClient } from '../redis/connection.js';
import { RedisWrittenTags } from '../redis/written-tags.js';
import { SqliteJobStore } from '../sqlite/store.js';
import { SqliteWrittenTags } from '../sqlite/written-tags.js';

export interface WrittenRecord {
  /** Undefined when there is no store to use: nothing is recorded, and dry runs list no deletions. */
  written?: WrittenTags;
  close(): Promise<void>;
}

export async function openWrittenRecord(config: Config, warn: (message: string) => void): Promise<WrittenRecord> {
  if (config.queue.backend === 'sqlite') {
    if (!existsSync(join(config.dataDir, 'jobs.sqlite'))) {
      // Worth a word only to someone who deletes: otherwise an unrecorded tag changes nothing they asked for.
      if (config.deletes.onEvents || config.deletes.inSweep)
        warn(
          `no job store in DataDir ${config.dataDir}: the tags this command writes are not recorded, so deletions (SyncDeletes, ReconcileDeletes) will not touch them`,
        );
      return { close: async () => undefined };
    }
    const store = new SqliteJobStore(config.dataDir);
    return { written: new SqliteWrittenTags(store.db), close: async () => store.close() };
  }
  const url = config.queue.redisUrl!;
  const client = createRedisClient(url, {
    keyPrefix: `${config.queue.keyPrefix}:`,
    connectionName: 'swr-harbor-sync-cli',
  });
  try {
    await client.ping();
  } catch (error) {
    client.disconnect();
    warn(
      `cannot reach Redis at ${maskRedisUrl(url)} (${(error as Error).message}): the tags this command writes are not recorded`,
    );
    return { close: async () => undefined };
  }
  return {
    written: new RedisWrittenTags(client),
    close: async () => {
      await client.quit().catch(() => undefined);
    },
  };
}
