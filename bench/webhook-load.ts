// Owns the webhook load benchmark: a Harbor stand-in with ~50 small images (some multi-arch), the service
// as a child process mirroring into a real registry behind a counting proxy, then a paced burst of webhook
// events (Default, CloudEvents and Distribution envelopes, many duplicates, multi-arch children with
// tag = digest). Reports answers, latency percentiles, jobs recorded against distinct pushes, copies per
// digest at the destination, and total time. Everything on 127.0.0.1; bounded in count and time. Runs once
// quiet and once with a disk-loading neighbour (disk-load.ts), timing the disk's own fsync during each burst.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  distributionEnvelope,
  startHarbor,
  type HarborStandIn,
  type PushEvent,
} from '../tests/harness/harbor/index.js';
import { startFaultProxy, type FaultProxy } from '../tests/harness/fault-proxy.js';
import { pushImage, pushIndex } from '../tests/harness/images.js';
import { freePort } from '../tests/harness/ports.js';
import { startRegistry, type RunningRegistry } from '../tests/harness/registry.js';
import { seeded } from '../tests/harness/seeded.js';
import { startFsyncProbe, startNeighbour, type Neighbour } from './disk-load.js';
import { benchServiceEnv, listJobs, stopChild, waitHealthy, type Job } from './service-process.js';
import { ourCliPath } from './tools.js';

// Knobs (environment): BENCH_EVENTS, BENCH_RATE, BENCH_TMP, BENCH_DISK (quiet, loaded or both, the default),
// BENCH_READYZ_RATE (a monitor asking /readyz this often per second during the burst; 0, the default, none).
const EVENTS = Number(process.env.BENCH_EVENTS ?? 5000);
const RATE = Number(process.env.BENCH_RATE ?? 200);
const READYZ_RATE = Number(process.env.BENCH_READYZ_RATE ?? 0);
const SINGLE_IMAGES = 40;
const MULTI_ARCH = 10;
const REPOS = 10;
const SETTLE_DEADLINE_MS = 180_000;
const OVERALL_DEADLINE_MS = 600_000;
const P99_TARGET_MS = 100;
/** With the neighbour: p99 under the disk's own fsync p99 plus this (one fsync per group, not per webhook). */
const LOADED_MARGIN_MS = 50;

const SERVICE_MAIN = ourCliPath();

interface Pushed {
  repository: string;
  digest: string;
  tag: string;
  mediaType: string;
  size: number;
  children: Array<{ digest: string; mediaType: string; size: number }>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function pushImages(harbor: HarborStandIn): Promise<Pushed[]> {
  const pushed: Pushed[] = [];
  for (let i = 0; i < SINGLE_IMAGES; i++) {
    const repository = `app${i % REPOS}`;
    const tag = `v${Math.floor(i / REPOS)}`;
    const image = await pushImage(harbor.access, `proj/${repository}`, tag, {
      format: i % 2 === 0 ? 'docker' : 'oci',
      layers: [
        { seed: 'bench-base', size: 4_000 },
        { seed: `bench-${i}`, size: 2_000 },
      ],
    });
    pushed.push({ repository, digest: image.digest, tag, mediaType: image.mediaType, size: image.size, children: [] });
  }
  for (let i = 0; i < MULTI_ARCH; i++) {
    const repository = `multi${i % 5}`;
    const tag = `m${Math.floor(i / 5)}`;
    const index = await pushIndex(harbor.access, `proj/${repository}`, tag, {
      format: i % 2 === 0 ? 'docker' : 'oci',
      images: [
        { platform: { os: 'linux', architecture: 'amd64' }, layers: [{ seed: `bench-multi-${i}-amd`, size: 2_000 }] },
        { platform: { os: 'linux', architecture: 'arm64' }, layers: [{ seed: `bench-multi-${i}-arm`, size: 2_000 }] },
      ],
    });
    pushed.push({
      repository,
      digest: index.digest,
      tag,
      mediaType: index.mediaType,
      size: index.size,
      children: index.children.map((c) => ({ digest: c.digest, mediaType: c.mediaType, size: c.size })),
    });
  }
  return pushed;
}

/** One event's body: a random envelope for a random image, or one of its children (tag = digest). */
function eventFor(
  harbor: HarborStandIn,
  image: Pushed,
  child: Pushed['children'][number] | undefined,
  kind: number,
): { body: string; contentType: string } {
  const digest = child?.digest ?? image.digest;
  const event: PushEvent = {
    project: 'proj',
    repository: image.repository,
    digest,
    tag: child ? child.digest : image.tag,
  };
  if (kind === 0) return harbor.webhookPayload('default', event);
  if (kind === 1) return harbor.webhookPayload('cloudevents', event);
  return distributionEnvelope(
    [
      {
        action: 'push',
        repository: `proj/${image.repository}`,
        digest,
        ...(child ? {} : { tag: image.tag }),
        mediaType: child?.mediaType ?? image.mediaType,
        size: child?.size ?? image.size,
      },
    ],
    kind === 2 ? 'v1' : 'v2',
  );
}

interface RunFigures {
  loaded: boolean;
  p50: number;
  p99: number;
  fsyncP50: number;
  fsyncP99: number;
  ok: boolean;
}

async function main(): Promise<number> {
  if (!existsSync(SERVICE_MAIN)) {
    console.error(`!! ${SERVICE_MAIN} is missing: run through npm run bench:webhooks (it builds first)`);
    return 2;
  }
  const mode = process.env.BENCH_DISK ?? 'both';
  const runs = mode === 'quiet' ? [false] : mode === 'loaded' ? [true] : [false, true];
  const figures: RunFigures[] = [];
  for (const loaded of runs) {
    console.log(`\n=== ${loaded ? 'with a dd oflag=dsync neighbour loading the disk' : 'quiet disk'} ===`);
    figures.push(await runOnce(loaded));
  }
  const fmt = (ms: number) => `${ms.toFixed(1)} ms`;
  console.log('\n| disk | webhook p50 | webhook p99 | disk fsync p50 | disk fsync p99 | target | met |');
  console.log('|---|---|---|---|---|---|---|');
  let allMet = true;
  for (const f of figures) {
    const target = f.loaded ? f.fsyncP99 + LOADED_MARGIN_MS : P99_TARGET_MS;
    allMet &&= f.p99 < target && f.ok;
    console.log(
      `| ${f.loaded ? 'dd neighbour' : 'quiet'} | ${fmt(f.p50)} | ${fmt(f.p99)} | ${fmt(f.fsyncP50)} | ${fmt(f.fsyncP99)} | p99 < ${fmt(target)} | ${f.p99 < target ? 'yes' : 'NO'} |`,
    );
  }
  if (!allMet) console.log('note: a p99 target was missed (latency depends on the machine; not a failure)');
  return figures.every((f) => f.ok) ? 0 : 1;
}

async function runOnce(loaded: boolean): Promise<RunFigures> {
  const started = Date.now();
  // BENCH_TMP=/dev/shm puts the service's job store on memory, to tell fsync cost from the rest.
  const base = await mkdtemp(join(process.env.BENCH_TMP ?? tmpdir(), 'swr-webhook-bench-'));
  let harbor: HarborStandIn | undefined;
  let dst: RunningRegistry | undefined;
  let proxy: FaultProxy | undefined;
  let child: ChildProcess | undefined;
  let neighbour: Neighbour | undefined;
  const overall = setTimeout(() => {
    console.error(`!! benchmark exceeded ${OVERALL_DEADLINE_MS / 1000} s; stopping`);
    child?.kill('SIGKILL');
    void neighbour?.stop(); // kills dd at once: it must not outlive the bench
    process.exit(3);
  }, OVERALL_DEADLINE_MS);
  try {
    [harbor, dst] = await Promise.all([startHarbor({ projects: [{ name: 'proj', public: false }] }), startRegistry()]);
    proxy = await startFaultProxy(dst.url);
    const t0 = Date.now();
    const images = await pushImages(harbor);
    console.log(
      `webhook-load: ${images.length} images pushed to the Harbor stand-in (${MULTI_ARCH} multi-arch) in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );

    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    let stderrText = '';
    child = spawn(process.execPath, [SERVICE_MAIN, 'serve'], {
      cwd: base, // no app.conf here: the environment is the whole configuration
      env: await benchServiceEnv(harbor.host, proxy.host, port, {
        NamespaceMap: 'proj:mirror',
        LogDir: join(base, 'logs'),
        DataDir: join(base, 'data'),
        WebhookCoalesceMs: '1000',
        ShutdownGraceSeconds: '5',
      }),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr!.on('data', (d: Buffer) => {
      stderrText = (stderrText + d.toString()).slice(-4000);
    });
    await waitHealthy(url, child, () => stderrText);

    // The schedule: every distinct tagged image at least twice, the rest random picks; multi-arch images
    // send their children (tag = digest) too. Kinds: 0 default, 1 cloudevents, 2/3 distribution v1/v2.
    const random = seeded(20261125);
    const plan: Array<{ image: Pushed; child?: Pushed['children'][number] }> = [];
    for (let round = 0; round < 2; round++) for (const image of images) plan.push({ image });
    while (plan.length < EVENTS) {
      const image = images[Math.floor(random() * images.length)];
      const childPick =
        image.children.length > 0 && random() < 0.5
          ? image.children[Math.floor(random() * image.children.length)]
          : undefined;
      plan.push({ image, child: childPick });
    }
    for (let i = plan.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [plan[i], plan[j]] = [plan[j], plan[i]];
    }
    const bodies = plan
      .slice(0, EVENTS)
      .map((p) => ({ ...p, payload: eventFor(harbor!, p.image, p.child, Math.floor(random() * 4)) }));
    const sentTagged = new Set(bodies.filter((b) => !b.child).map((b) => `${b.image.repository}@${b.image.digest}`));
    const sentChildren = new Set(bodies.filter((b) => b.child).map((b) => `${b.image.repository}@${b.child!.digest}`));

    const latencies: number[] = [];
    const statuses = new Map<number, number>();
    const failures: string[] = [];
    const interval = 1000 / RATE;
    // The neighbour and the probe write beside the service's DataDir: the same disk.
    neighbour = loaded ? startNeighbour(base) : undefined;
    if (neighbour) await sleep(1000); // let dd's synced writes queue up on the disk first
    const probe = startFsyncProbe(base);
    const loadBefore = loadavg()[0];
    const burstStart = performance.now();
    const inFlight: Array<Promise<void>> = [];
    let readyzAsked = 0;
    const readyzPoller =
      READYZ_RATE > 0
        ? setInterval(() => {
            readyzAsked++;
            void fetch(`${url}/readyz`).then(
              (res) => res.arrayBuffer(),
              () => undefined,
            );
          }, 1000 / READYZ_RATE)
        : undefined;
    for (let i = 0; i < bodies.length; i++) {
      const due = burstStart + i * interval;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      const { payload } = bodies[i];
      inFlight.push(
        (async () => {
          const t = performance.now();
          try {
            const res = await fetch(`${url}/service/notifications`, {
              method: 'POST',
              headers: { 'content-type': payload.contentType },
              body: payload.body,
            });
            await res.arrayBuffer();
            latencies.push(performance.now() - t);
            statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          } catch (error) {
            latencies.push(performance.now() - t);
            failures.push((error as Error).message);
          }
        })(),
      );
    }
    await Promise.all(inFlight);
    clearInterval(readyzPoller);
    const burstMs = performance.now() - burstStart;
    const fsyncs = await probe.stop();
    await neighbour?.stop();
    neighbour = undefined;
    const loadAfterBurst = loadavg()[0];

    // Settle: no queued or running job, and the job list unchanged over three polls after the coalesce window.
    const settleStart = Date.now();
    let jobs: Job[] = [];
    let stableSince = 0;
    let lastSignature = '';
    while (Date.now() - settleStart < SETTLE_DEADLINE_MS) {
      jobs = await listJobs(url);
      const active = jobs.some((j) => j.state === 'queued' || j.state === 'running');
      const signature = jobs
        .map((j) => `${j.id}:${j.state}`)
        .sort()
        .join(',');
      if (!active && signature === lastSignature) {
        if (stableSince === 0) stableSince = Date.now();
        if (Date.now() - stableSince > 2500) break;
      } else {
        stableSince = 0;
      }
      lastSignature = signature;
      await sleep(250);
    }
    const settleMs = Date.now() - settleStart;
    const unsettled = jobs.filter((j) => j.state === 'queued' || j.state === 'running').length;

    // Jobs per distinct (repository, digest).
    const jobsPerKey = new Map<string, number>();
    for (const j of jobs) {
      if (j.spec.kind !== 'image') continue;
      const key = `${j.spec.repository}@${j.spec.digest}`;
      jobsPerKey.set(key, (jobsPerKey.get(key) ?? 0) + 1);
    }
    const missing = [...sentTagged].filter((k) => !jobsPerKey.has(k));
    const duplicateJobs = [...jobsPerKey].filter(([, n]) => n > 1);
    const childJobs = [...sentChildren].filter((k) => jobsPerKey.has(k));
    const byState = new Map<string, number>();
    for (const j of jobs) byState.set(j.state, (byState.get(j.state) ?? 0) + 1);

    // Copies at the destination: manifest PUTs per (repository, reference), blob upload PUTs per digest.
    const manifestPuts = new Map<string, number>();
    const blobPuts = new Map<string, number>();
    for (const r of proxy.requests) {
      if (r.method !== 'PUT') continue;
      const m = /^\/v2\/(.+)\/manifests\/([^?]+)/.exec(r.path);
      if (m) {
        const key = `${m[1]}:${decodeURIComponent(m[2])}`;
        manifestPuts.set(key, (manifestPuts.get(key) ?? 0) + 1);
        continue;
      }
      const b = /^\/v2\/(.+)\/blobs\/uploads\/[^?]*\?(.*)$/.exec(r.path);
      if (b) {
        const digest = new URLSearchParams(b[2]).get('digest');
        if (digest) blobPuts.set(digest, (blobPuts.get(digest) ?? 0) + 1);
      }
    }
    const manifestDupes = [...manifestPuts].filter(([, n]) => n > 1);
    const blobDupes = [...blobPuts].filter(([, n]) => n > 1);
    const copiedResults = new Map<string, number>();
    for (const j of jobs)
      for (const r of j.results ?? [])
        if (r.status === 'copied') copiedResults.set(r.destination, (copiedResults.get(r.destination) ?? 0) + 1);
    const copiedDupes = [...copiedResults].filter(([, n]) => n > 1);

    const sorted = [...latencies].sort((a, b) => a - b);
    const ok2xx = [...statuses].filter(([s]) => s >= 200 && s < 300).reduce((a, [, n]) => a + n, 0);
    const fmt = (ms: number) => `${ms.toFixed(1)} ms`;
    const p99 = percentile(sorted, 99);
    console.log('');
    console.log(
      `requests sent              ${bodies.length} at ${RATE}/s target (burst took ${(burstMs / 1000).toFixed(1)} s, achieved ${(bodies.length / (burstMs / 1000)).toFixed(0)}/s)`,
    );
    console.log(
      `answered 2xx               ${ok2xx}/${bodies.length}${failures.length ? `; ${failures.length} transport failures (${failures[0]})` : ''}; statuses ${JSON.stringify(Object.fromEntries(statuses))}`,
    );
    if (READYZ_RATE > 0) console.log(`readyz asked               ${readyzAsked} times during the burst`);
    console.log(
      `latency                    p50 ${fmt(percentile(sorted, 50))}  p95 ${fmt(percentile(sorted, 95))}  p99 ${fmt(p99)}  max ${fmt(sorted[sorted.length - 1] ?? NaN)}`,
    );
    console.log(
      `disk fsync (4 KiB probe)   ${fsyncs.length} during the burst: p50 ${fmt(percentile(fsyncs, 50))}  p99 ${fmt(percentile(fsyncs, 99))}  max ${fmt(fsyncs[fsyncs.length - 1] ?? NaN)}`,
    );
    console.log(
      `distinct tagged sent       ${sentTagged.size}; image jobs recorded ${jobsPerKey.size} (${missing.length} missing, ${duplicateJobs.length} with more than one job)`,
    );
    console.log(
      `multi-arch children sent   ${sentChildren.size} distinct (tag = digest); jobs of their own: ${childJobs.length}`,
    );
    console.log(
      `job states                 ${JSON.stringify(Object.fromEntries(byState))}; settled in ${(settleMs / 1000).toFixed(1)} s${unsettled ? `, ${unsettled} NOT settled` : ''}`,
    );
    console.log(
      `destination manifest PUTs  ${[...manifestPuts.values()].reduce((a, b) => a + b, 0)} over ${manifestPuts.size} (repo, ref); duplicates ${manifestDupes.length}${
        manifestDupes.length
          ? ` e.g. ${manifestDupes
              .slice(0, 3)
              .map(([k, n]) => `${k} x${n}`)
              .join(', ')}`
          : ''
      }`,
    );
    console.log(
      `destination blob PUTs      ${[...blobPuts.values()].reduce((a, b) => a + b, 0)} over ${blobPuts.size} digests; digests uploaded more than once ${blobDupes.length}${
        blobDupes.length
          ? ` e.g. ${blobDupes
              .slice(0, 3)
              .map(([k, n]) => `${k.slice(0, 19)} x${n}`)
              .join(', ')}`
          : ''
      }`,
    );
    console.log(
      `results 'copied' per dest  ${copiedResults.size} destinations; copied more than once ${copiedDupes.length}`,
    );
    console.log(`total time                 ${((Date.now() - started) / 1000).toFixed(1)} s`);
    // Latency is sensitive to other work on the machine (every accepted push is an fsync'd SQLite write).
    console.log(
      `machine                    ${cpus().length} CPU(s); 1-min load ${loadBefore.toFixed(2)} before the burst, ${loadAfterBurst.toFixed(2)} after`,
    );
    if (missing.length) console.log(`missing jobs: ${missing.slice(0, 5).join(', ')}`);
    if (duplicateJobs.length)
      console.log(
        `duplicate jobs: ${duplicateJobs
          .slice(0, 5)
          .map(([k, n]) => `${k} x${n}`)
          .join(', ')}`,
      );

    const problems = [
      ok2xx !== bodies.length && 'not every request was answered 2xx',
      missing.length > 0 && 'distinct tagged pushes without a job',
      duplicateJobs.length > 0 && 'duplicate jobs',
      unsettled > 0 && 'jobs did not settle',
      manifestDupes.length + copiedDupes.length > 0 && 'duplicate copies',
    ].filter(Boolean);
    console.log(problems.length ? `\nPROBLEMS: ${problems.join('; ')}` : '\nall checks passed');
    return {
      loaded,
      p50: percentile(sorted, 50),
      p99,
      fsyncP50: percentile(fsyncs, 50),
      fsyncP99: percentile(fsyncs, 99),
      ok: problems.length === 0,
    };
  } finally {
    clearTimeout(overall);
    // The harness's registry children are unref'd: without a handle of our own, Node would end here with code 0
    // while their stop() waits, and the next run (and the summary) would never come.
    const keepAlive = setInterval(() => undefined, 1000);
    await neighbour?.stop();
    if (child) await stopChild(child);
    // The service's own count of intake commits (one fsync each), logged when its queue closes.
    const commits = /job store: (\d+) intake writes in (\d+) commits/.exec(
      await readFile(join(base, 'logs', 'running.log'), 'utf8').catch(() => ''),
    );
    if (commits) console.log(`intake commits             ${commits[2]} for ${commits[1]} writes (group commit)`);
    await proxy?.stop();
    await Promise.all([harbor?.stop(), dst?.stop()]);
    await rm(base, { recursive: true, force: true });
    clearInterval(keepAlive);
  }
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(error.stack ?? error.message);
    process.exit(1);
  },
);
