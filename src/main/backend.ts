// Opens the backend the service keeps what outlives a request in: the job queue, the blob location index, request
// pacing, the bandwidth cap and the once-per-deployment lock of the reconcile sweep. SQLite in DataDir for one instance; Redis when
// several replicas share the work. Wiring only: each backend's mechanics live in its own folder.
import type winston from 'winston';
import type { Config } from '../config/config.js';
import { bandwidthLimit, type BandwidthLimiter, type LocationIndex } from '../copy/index.js';
import type { SharedSlots } from '../copy/shared-slots.js';
import type { TransferClaims } from '../copy/transfer-claims.js';
import type { JobQueue } from '../jobs/queue.js';
import type { WrittenTags } from '../jobs/written-tags.js';
import type { RequestPacer } from '../oci/index.js';
import { maskRedisUrl, parseRedisUrl } from '../config/redis-url.js';
import { RedisBandwidthLimiter } from '../redis/bandwidth-limiter.js';
import { BullQueue } from '../redis/bull-queue.js';
import { createRedisClient } from '../redis/connection.js';
import { RedisLocationIndex } from '../redis/location-index.js';
import { LeaseLocks } from '../redis/lock.js';
import { RedisRequestLimiter } from '../redis/request-limiter.js';
import { RedisTransferSlots } from '../redis/semaphore.js';
import { RedisTransferClaims } from '../redis/transfer-claims.js';
import { TokenBucket } from '../oci/rate-limit.js';
import { SqliteLocationIndex } from '../sqlite/location-index.js';
import { SqliteQueue } from '../sqlite/queue.js';
import { SqliteWrittenTags } from '../sqlite/written-tags.js';
import { RedisWrittenTags } from '../redis/written-tags.js';

export interface Backend {
  queue: JobQueue;
  locations: LocationIndex;
  /** The tags the service wrote at its destinations: deletions touch only these. */
  written: WrittenTags;
  /** Blob uploads claimed across replicas, so two never send the same blob at once. */
  claims?: TransferClaims;
  /** MaxBlobTransfers held for all replicas together. */
  slots?: SharedSlots;
  /** Pacing per registry host shared by every client of the process (and, on Redis, by every replica). */
  pacer?: (host: string, requestsPerSecond: number) => RequestPacer | undefined;
  /** MaxBandwidth for every blob transfer of the process (and, on Redis, of every replica); none when unlimited. */
  bandwidth?: BandwidthLimiter;
  /**
   * Runs fn unless another replica is running the same work now, or (with `atMostEveryMs`) started it less
   * than that long ago; then resolves undefined. Each replica has its own timer: this keeps a periodic task
   * periodic for the deployment, not once per replica per period.
   */
  exclusive<T>(name: string, fn: (signal: AbortSignal) => Promise<T>, atMostEveryMs?: number): Promise<T | undefined>;
  /** Secrets the backend's settings hold (the Redis password), for the redactor. */
  secrets: string[];
  describe: string;
  close(): Promise<void>;
}

/** A sweep's lease; renewed while it runs, so only a dead replica's sweep is ever taken over. */
const SWEEP_LEASE_MS = 60_000;

export async function openBackend(config: Config, log: winston.Logger): Promise<Backend> {
  const runner = { concurrency: config.jobs.concurrency, retries: config.jobs.retries };
  if (config.queue.backend === 'sqlite') {
    const queue = new SqliteQueue(config.dataDir, runner, log, config.jobRetention);
    // One bucket per host for the whole process: a job, a manual call and the sweep each make their own
    // clients, and SWR counts the tenant's requests together (six 503s in bench:swr with a bucket per client).
    const buckets = new Map<string, TokenBucket>();
    return {
      queue,
      pacer(host, requestsPerSecond) {
        let bucket = buckets.get(host);
        if (!bucket) buckets.set(host, (bucket = new TokenBucket(requestsPerSecond)));
        return bucket;
      },
      locations: new SqliteLocationIndex(queue.store.db),
      written: new SqliteWrittenTags(queue.store.db),
      bandwidth: bandwidthLimit(config.engine.maxBandwidth),
      exclusive: (_name, fn) => fn(new AbortController().signal),
      secrets: [],
      describe: `SQLite in ${config.dataDir}`,
      close: () => queue.close(),
    };
  }

  const url = config.queue.redisUrl!;
  // BullMQ's keys and ours share one prefix, so one deployment's keys stay together (and apart from another's).
  const prefix = config.queue.keyPrefix;
  // Quiet once closing: a lock renewal or reconnect still in flight then fails by design, and the logs it would
  // write to are closed next (winston throws "write after end" as an unhandled error event).
  let closing = false;
  const onError = (message: string) => {
    if (!closing) log.warn(message);
  };
  // BullMQ refuses an ioredis key prefix (it has its own); the shared pieces get one.
  const forQueue = createRedisClient(url, { keyPrefix: '', connectionName: 'swr-harbor-sync-queue', onError });
  const shared = createRedisClient(url, { keyPrefix: `${prefix}:`, connectionName: 'swr-harbor-sync', onError });
  try {
    await Promise.all([forQueue.ping(), shared.ping()]);
  } catch (error) {
    forQueue.disconnect();
    shared.disconnect();
    throw new Error(`cannot reach Redis at ${maskRedisUrl(url)} (QueueBackend=redis): ${(error as Error).message}`);
  }
  const queue = new BullQueue(
    forQueue,
    { prefix, ...runner, lockMs: config.queue.lockMs, retention: config.jobRetention },
    log,
  );
  const locks = new LeaseLocks(shared, { onError });
  const pacers = new Map<string, RequestPacer>();
  return {
    queue,
    locations: new RedisLocationIndex(shared),
    written: new RedisWrittenTags(shared),
    claims: new RedisTransferClaims(shared, locks),
    slots: new RedisTransferSlots(shared, onError),
    bandwidth:
      config.engine.maxBandwidth > 0
        ? new RedisBandwidthLimiter(shared, {
            bytesPerSecond: config.engine.maxBandwidth,
            replicaHint: config.queue.replicas,
            onModeChange: (mode, reason) =>
              log.warn(
                `MaxBandwidth: ${mode === 'local' ? 'Redis is away' : 'shared through Redis again'} (${reason})`,
              ),
          })
        : undefined,
    pacer(host, requestsPerSecond) {
      if (requestsPerSecond <= 0) return undefined;
      let pacer = pacers.get(host);
      if (!pacer) {
        pacer = new RedisRequestLimiter(shared, {
          host,
          requestsPerSecond,
          replicaHint: config.queue.replicas,
          onModeChange: (mode, reason) =>
            log.warn(
              `request pacing for ${host}: ${mode === 'local' ? `Redis is away, pacing at ${requestsPerSecond}/${config.queue.replicas} requests/s here` : 'shared through Redis again'} (${reason})`,
            ),
        });
        pacers.set(host, pacer);
      }
      return pacer;
    },
    async exclusive(name, fn, atMostEveryMs) {
      return locks.withLock(name, SWEEP_LEASE_MS, async (signal) => {
        if (
          atMostEveryMs &&
          (await shared.set(`due:${name}`, new Date().toISOString(), 'PX', atMostEveryMs, 'NX')) !== 'OK'
        )
          return undefined;
        return fn(signal);
      });
    },
    secrets: [parseRedisUrl(url).password].filter((s): s is string => Boolean(s)),
    describe: `Redis at ${maskRedisUrl(url)} (BullMQ, key prefix ${prefix})`,
    async close() {
      closing = true;
      await queue.close();
      await Promise.all([forQueue.quit().catch(() => undefined), shared.quit().catch(() => undefined)]);
    },
  };
}
