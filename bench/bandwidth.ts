// Owns `npm run bench:bandwidth`: how closely MaxBandwidth holds copies to the configured rate, between two real
// registries. One 100 MiB layer; two 50 MiB layers copied at once through one process's bucket; three replica
// processes on one redis-server, each copying a 35 MiB layer through the shared budget. Each run copies into a
// fresh destination registry; prints the median time against bytes / rate. Figures, not a test.
// Knobs (environment): BENCH_RUNS (default 3), BENCH_BANDWIDTH (default 10MB/s).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseBandwidth } from '../src/config/bandwidth.js';
import { ByteBucket, CopyEngine, type ImageResult } from '../src/copy/index.js';
import { RegistryClient } from '../src/oci/index.js';
import { pushImage } from '../tests/harness/images.js';
import { startRedis, type RunningRedis } from '../tests/harness/redis.js';
import { startRegistry, type RunningRegistry } from '../tests/harness/registry.js';
import type { ReplicaReport } from './bandwidth-replica.js';
import { median } from './report.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const RATE_TEXT = process.env.BENCH_BANDWIDTH ?? '10MB/s';
const MiB = 1024 * 1024;
const REPLICA_MAIN = join(dirname(fileURLToPath(import.meta.url)), 'bandwidth-replica.js');

interface Setup {
  name: string;
  /** One image per entry, each with one layer of this many bytes of file content. */
  layers: number[];
  replicas?: number;
}

interface RunFigures {
  seconds: number;
  bytes: number;
  waits: number;
  /** Redis calls (replicas only). */
  reservations?: number;
  /** Each replica's share of the bytes and its own time. */
  perReplica?: string;
}

const SETUPS: Setup[] = [
  { name: 'one 100 MiB layer', layers: [100 * MiB] },
  { name: 'two 50 MiB layers at once', layers: [50 * MiB, 50 * MiB] },
  { name: '3 replicas on Redis, 35 MiB each', layers: [35 * MiB, 35 * MiB, 35 * MiB], replicas: 3 },
];

const repoOf = (setup: number, image: number) => `bw/s${setup}-i${image}`;

function client(registry: RunningRegistry, push = false): RegistryClient {
  return new RegistryClient({ host: registry.host, insecure: true, push });
}

async function inProcess(
  setup: number,
  src: RunningRegistry,
  dst: RunningRegistry,
  rate: number,
  capped = true,
): Promise<RunFigures> {
  const bandwidth = capped ? new ByteBucket(rate) : undefined;
  const engine = new CopyEngine({}, undefined, { bandwidth });
  const source = client(src);
  const destination = client(dst, true);
  try {
    const pairs = SETUPS[setup].layers.map((_, i) => ({
      source: { client: source, repository: repoOf(setup, i), reference: 'v1' },
      destination: { client: destination, repository: repoOf(setup, i), tag: 'v1' },
    }));
    const started = performance.now();
    const results: ImageResult[] = await engine.copyImages(pairs);
    const seconds = (performance.now() - started) / 1000;
    const failed = results.find((r) => r.status !== 'copied');
    if (failed) throw new Error(`${failed.destination}: ${failed.status} ${failed.reason ?? ''}`);
    const bytes = results.reduce((sum, r) => sum + r.bytesUploaded, 0);
    return { seconds, bytes, waits: bandwidth?.stats.waits ?? 0 };
  } finally {
    await Promise.all([source.close(), destination.close()]);
  }
}

function lines(child: ChildProcess): AsyncIterator<string> {
  return createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
}

async function replicas(
  setup: number,
  src: RunningRegistry,
  dst: RunningRegistry,
  rate: number,
  redis: RunningRedis,
  run: number,
): Promise<RunFigures> {
  const { layers, replicas: count = 1 } = SETUPS[setup];
  const prefix = `bwbench${run}`;
  const children = layers.map((_, i) =>
    spawn(
      process.execPath,
      [REPLICA_MAIN, redis.url, prefix, src.host, dst.host, repoOf(setup, i), String(rate), String(count)],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    ),
  );
  try {
    const outputs = children.map(lines);
    for (const out of outputs) if ((await out.next()).value !== 'ready') throw new Error('a replica did not start');
    const started = performance.now();
    for (const child of children) child.stdin.write('go\n');
    const reports = await Promise.all(
      outputs.map(async (out) => JSON.parse((await out.next()).value as string) as ReplicaReport),
    );
    const seconds = (performance.now() - started) / 1000;
    const failed = reports.find((r) => r.status !== 'copied');
    if (failed) throw new Error(`a replica's copy: ${failed.status}`);
    return {
      seconds,
      bytes: reports.reduce((sum, r) => sum + r.bytes, 0),
      waits: reports.reduce((sum, r) => sum + r.waits, 0),
      reservations: reports.reduce((sum, r) => sum + r.reservations, 0),
      perReplica: reports.map((r) => `${(r.bytes / 1e6).toFixed(1)} MB in ${r.seconds.toFixed(2)} s`).join(', '),
    };
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  }
}

async function main(): Promise<number> {
  if (!existsSync(REPLICA_MAIN)) {
    console.error(`!! ${REPLICA_MAIN} is missing: run through npm run bench:bandwidth (it builds first)`);
    return 2;
  }
  const parsed = parseBandwidth(RATE_TEXT, 'BENCH_BANDWIDTH');
  if ('problem' in parsed || parsed.bytesPerSecond === 0) throw new Error(`BENCH_BANDWIDTH: give a cap such as 10MB/s`);
  const rate = parsed.bytesPerSecond;
  // The harness unrefs its server processes: without a handle of ours, awaiting a registry's exit ends the process.
  const keepAlive = setInterval(() => undefined, 1000);
  const [src, redis] = await Promise.all([startRegistry(), startRedis()]);
  try {
    for (const [s, setup] of SETUPS.entries())
      await Promise.all(
        setup.layers.map((size, i) =>
          pushImage(src, repoOf(s, i), 'v1', { format: 'docker', layers: [{ seed: `bw-${s}-${i}`, size }] }),
        ),
      );
    console.log(
      `bandwidth bench: MaxBandwidth=${RATE_TEXT} (${rate} B/s), ${RUNS} runs per setup, ${cpus().length} CPUs`,
    );
    const uncapped = await withDestination((dst) => inProcess(0, src, dst, rate, false));
    console.log(`  uncapped, for reference: one 100 MiB layer in ${uncapped.seconds.toFixed(2)} s`);
    const all = new Map<string, RunFigures[]>(SETUPS.map((x) => [x.name, []]));
    for (let run = 0; run < RUNS; run++) {
      for (const [s, setup] of SETUPS.entries()) {
        const figures = await withDestination((dst) =>
          setup.replicas ? replicas(s, src, dst, rate, redis, run) : inProcess(s, src, dst, rate),
        );
        all.get(setup.name)!.push(figures);
        const extra = figures.perReplica ? `; ${figures.reservations} Redis grants; ${figures.perReplica}` : '';
        console.log(
          `  ${setup.name}: ${figures.seconds.toFixed(2)} s for ${(figures.bytes / 1e6).toFixed(1)} MB, ${figures.waits} waits${extra}`,
        );
      }
    }
    console.log('\nsetup                               MB   expected s   median s   MB/s    vs expected');
    for (const setup of SETUPS) {
      const runs = all.get(setup.name)!;
      const bytes = runs[0].bytes;
      const expected = bytes / rate;
      const m = median(runs.map((r) => r.seconds))!;
      const deviation = (m / expected - 1) * 100;
      console.log(
        `${setup.name.padEnd(34)}${(bytes / 1e6).toFixed(1).padStart(7)}${expected.toFixed(2).padStart(13)}${m.toFixed(2).padStart(11)}${(bytes / 1e6 / m).toFixed(2).padStart(7)}${`${deviation >= 0 ? '+' : ''}${deviation.toFixed(1)}%`.padStart(15)}`,
      );
    }
    return 0;
  } finally {
    await Promise.all([src.stop(), redis.stop()]);
    clearInterval(keepAlive);
  }
}

async function withDestination<T>(work: (dst: RunningRegistry) => Promise<T>): Promise<T> {
  const dst = await startRegistry();
  try {
    return await work(dst);
  } finally {
    await dst.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(error.stack ?? error.message);
    process.exit(1);
  },
);
