// Owns one replica of `npm run bench:bandwidth`'s Redis setup: a process of its own with its own Redis
// connection and the service's shared limiter (RedisBandwidthLimiter, as main/backend.ts builds it), copying one
// image between two registries once told to start. Reports its figures as one JSON line on stdout.
import { createInterface } from 'node:readline';
import { CopyEngine } from '../src/copy/index.js';
import { RegistryClient } from '../src/oci/index.js';
import { RedisBandwidthLimiter } from '../src/redis/bandwidth-limiter.js';
import { createRedisClient } from '../src/redis/connection.js';

export interface ReplicaReport {
  seconds: number;
  bytes: number;
  waits: number;
  reservations: number;
  status: string;
}

async function main(): Promise<void> {
  const [redisUrl, prefix, srcHost, dstHost, repository, rate, replicas] = process.argv.slice(2);
  const redis = createRedisClient(redisUrl, { keyPrefix: `${prefix}:` });
  await redis.ping();
  const bandwidth = new RedisBandwidthLimiter(redis, { bytesPerSecond: Number(rate), replicaHint: Number(replicas) });
  const engine = new CopyEngine({}, undefined, { bandwidth });
  const source = new RegistryClient({ host: srcHost, insecure: true });
  const destination = new RegistryClient({ host: dstHost, insecure: true, push: true });
  process.stdout.write('ready\n');
  // Every replica starts on the same line from the parent, so they compete for the budget from the first byte.
  await new Promise<void>((resolve) => createInterface({ input: process.stdin }).once('line', () => resolve()));
  const started = performance.now();
  const result = await engine.copyImage(
    { client: source, repository, reference: 'v1' },
    { client: destination, repository, tag: 'v1' },
  );
  const report: ReplicaReport = {
    seconds: (performance.now() - started) / 1000,
    bytes: bandwidth.stats.grantedBytes,
    waits: bandwidth.stats.waits,
    reservations: bandwidth.stats.reservations,
    status: result.status === 'failed' ? `failed: ${result.reason}` : result.status,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
  await Promise.all([source.close(), destination.close()]);
  await redis.quit();
}

main().then(
  () => process.exit(0),
  (error: Error) => {
    console.error(error.stack ?? error.message);
    process.exit(1);
  },
);
