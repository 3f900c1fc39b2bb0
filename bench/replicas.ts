// Owns the scale-out benchmark: benchmark scenario (a)'s project in a Harbor stand-in, one webhook per tag
// spread round-robin over 1 or 3 service processes sharing one redis-server (and 1 on SQLite for
// reference), timed until every job has succeeded. Reports wall time, jobs per replica, manifest and blob
// uploads against what one copy needs, so that shared work and duplicates are both visible.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFaultProxy } from '../tests/harness/fault-proxy.js';
import { startHarbor, type HarborStandIn } from '../tests/harness/harbor/index.js';
import { freePort } from '../tests/harness/ports.js';
import { startRedis } from '../tests/harness/redis.js';
import { startRegistry } from '../tests/harness/registry.js';
import { buildProject, type ExpectedProject } from './project.js';
import { median } from './report.js';
import { scenario } from './scenarios.js';
import { benchServiceEnv, listJobs, stopChild, waitHealthy } from './service-process.js';
import { ourCliPath } from './tools.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SERVICE_MAIN = ourCliPath();

interface Setup {
  name: string;
  replicas: number;
  backend: 'sqlite' | 'redis';
}

interface RunResult {
  seconds: number;
  jobsPerReplica: number[];
  manifestPuts: number;
  blobUploads: number;
}

const SETUPS: Setup[] = [
  { name: '1 replica, SQLite', replicas: 1, backend: 'sqlite' },
  { name: '1 replica, Redis', replicas: 1, backend: 'redis' },
  { name: '3 replicas, Redis', replicas: 3, backend: 'redis' },
];

async function runOnce(
  setup: Setup,
  harbor: HarborStandIn,
  project: ExpectedProject,
  redisUrl: string,
  run: number,
): Promise<RunResult> {
  const base = await mkdtemp(join(tmpdir(), 'swr-replicas-bench-'));
  const dst = await startRegistry();
  const proxy = await startFaultProxy(dst.url);
  const children: Array<{ child: ChildProcess; url: string; logDir: string }> = [];
  try {
    for (let i = 0; i < setup.replicas; i++) {
      const port = await freePort();
      const logDir = join(base, `logs-${i}`);
      let stderr = '';
      const child = spawn(process.execPath, [SERVICE_MAIN, 'serve'], {
        cwd: base,
        env: await benchServiceEnv(harbor.host, proxy.host, port, {
          NamespaceMap: `${project.prefix}:mirror`,
          LogDir: logDir,
          DataDir: join(base, `data-${i}`),
          ReconcileInterval: '0',
          QueueBackend: setup.backend,
          RedisURL: redisUrl,
          RedisKeyPrefix: `bench${run}r${setup.replicas}${setup.backend}`,
        }),
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
      const url = `http://127.0.0.1:${port}`;
      children.push({ child, url, logDir });
      await waitHealthy(url, child, () => stderr);
    }
    const events = [...project.tags].flatMap(([repo, tags]) =>
      [...tags].map(([tag, digest]) => ({ repository: repo.slice(project.prefix.length + 1), tag, digest })),
    );
    const started = Date.now();
    await Promise.all(
      events.map(async (e, i) => {
        const payload = harbor.webhookPayload('default', { project: project.prefix, ...e });
        const res = await fetch(`${children[i % children.length].url}/service/notifications`, {
          method: 'POST',
          headers: { 'content-type': payload.contentType },
          body: payload.body,
        });
        if (!res.ok) throw new Error(`webhook answered ${res.status}`);
      }),
    );
    for (;;) {
      const jobs = await listJobs(children[0].url, project.prefix);
      if (jobs.some((j) => j.state === 'failed'))
        throw new Error(`a job failed: ${JSON.stringify(jobs.find((j) => j.state === 'failed'))}`);
      if (jobs.length === events.length && jobs.every((j) => j.state === 'succeeded')) break;
      if (Date.now() - started > 300_000) throw new Error('jobs did not finish within 300 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    const seconds = (Date.now() - started) / 1000;
    const jobsPerReplica = await Promise.all(
      children.map(
        async (c) =>
          ((await readFile(join(c.logDir, 'running.log'), 'utf8').catch(() => '')).match(/\] started:/g) ?? []).length,
      ),
    );
    const manifestPuts = proxy.requests.filter((r) => r.method === 'PUT' && /\/manifests\//.test(r.path)).length;
    const blobUploads = proxy.requests.filter((r) => r.method === 'PUT' && /\/blobs\/uploads\//.test(r.path)).length;
    return { seconds, jobsPerReplica, manifestPuts, blobUploads };
  } finally {
    await Promise.all(children.map((c) => stopChild(c.child)));
    await proxy.stop();
    await dst.stop();
    await rm(base, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  if (!existsSync(SERVICE_MAIN)) {
    console.error(`!! ${SERVICE_MAIN} is missing: run through npm run bench:replicas (it builds first)`);
    return 2;
  }
  const s = scenario('a', 1);
  const project = s.prefix;
  const [redis, harbor] = await Promise.all([
    startRedis(),
    startHarbor({ projects: [{ name: project, public: false }] }),
  ]);
  try {
    const expected = await buildProject(harbor.access, s);
    const tags = [...expected.tags.values()].reduce((n, t) => n + t.size, 0);
    console.log(
      `replicas bench: scenario (a) in a Harbor stand-in, ${tags} tags (one webhook each), ${expected.uniqueBlobs} unique blobs, ${(expected.uniqueBlobBytes / 1048576).toFixed(1)} MiB; ${RUNS} runs per setup, alternating; ${cpus().length} CPUs`,
    );
    const results = new Map<string, RunResult[]>(SETUPS.map((x) => [x.name, []]));
    for (let run = 0; run < RUNS; run++) {
      for (const setup of SETUPS) {
        const r = await runOnce(setup, harbor, expected, redis.url, run);
        results.get(setup.name)!.push(r);
        console.log(
          `  ${setup.name}: ${r.seconds.toFixed(2)} s, jobs per replica ${r.jobsPerReplica.join('/')}, manifest PUTs ${r.manifestPuts}, blob uploads ${r.blobUploads}`,
        );
      }
    }
    const baseline = median(results.get(SETUPS[0].name)!.map((r) => r.seconds))!;
    console.log('\nsetup                 median s   vs 1 SQLite   blob uploads (median)   manifest PUTs');
    for (const setup of SETUPS) {
      const rs = results.get(setup.name)!;
      const m = median(rs.map((r) => r.seconds))!;
      console.log(
        `${setup.name.padEnd(22)}${m.toFixed(2).padStart(8)}   ${(m / baseline).toFixed(2).padStart(11)}   ${String(median(rs.map((r) => r.blobUploads))).padStart(21)}   ${String(median(rs.map((r) => r.manifestPuts))).padStart(13)}`,
      );
    }
    console.log(
      `(one copy needs ${expected.uniqueBlobs} blob uploads at most; mounts replace uploads of blobs shared across repositories)`,
    );
    return 0;
  } finally {
    await Promise.all([redis.stop(), harbor.stop()]);
  }
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(error.stack ?? error.message);
    process.exit(1);
  },
);
