// Owns `npm run bench:swr`: the service in process against the tests' SWR stand-in enforcing 20 requests/s,
// counting every request SWR receives (token, registry, management). For the registry API alone (a generic
// destination, or SWR with SWRManageNamespaces=false: the state before issue 14) and with SWR's management
// listings: requests per new image, per unchanged image (project sync and webhook), per mounted image, token
// requests per project sync, and a reconcile sweep over 1,000 unchanged tags in 50 repositories. Prints a table.
// Knobs (environment): BENCH_SWR_IMAGES (default 20), BENCH_SWR_REPOS (50), BENCH_SWR_TAGS (20 per repository),
// BENCH_SWR_MANUAL (default 120: new images synced by the old tool's manual call, the target),
// BENCH_SWR_DEBUG (also list the requests that got a 503).
import { startHarbor, type HarborStandIn } from '../tests/harness/harbor/index.js';
import { getManifest, pushImage } from '../tests/harness/images.js';
import { call, describe as describeReply } from '../tests/harness/registry-http.js';
import type { RunningRegistry } from '../tests/harness/registry.js';
import { startServiceUnderTest, waitForJobs, type ServiceUnderTest } from '../tests/harness/service.js';
import { startSwr, SWR_REALM_PATH, type SwrStandIn } from '../tests/harness/swr/index.js';

const AK = 'BENCHSWRACCESSKEY001';
const SK = 'bench-swr-secret-key-0123456789abcd';
const RATE = 20;
const IMAGES = Number(process.env.BENCH_SWR_IMAGES ?? 20);
const SWEEP_REPOS = Number(process.env.BENCH_SWR_REPOS ?? 50);
const SWEEP_TAGS = Number(process.env.BENCH_SWR_TAGS ?? 20);
const MANUAL = Number(process.env.BENCH_SWR_MANUAL ?? 120);

type Mode = 'registry API' | 'management listings';

interface Figures {
  newImage: number;
  tokensPerSync: number;
  unchangedSync: number;
  unchangedWebhook: number;
  mounted: number;
  sweepRequests: number;
  sweepMs: number;
  sweepWrites: number;
  manualRequests: number;
  manualMs: number;
  rejected503: number;
}

const imageOptions = (seed: string) => ({
  format: 'docker' as const,
  layers: [{ seed, size: 20_000 }],
});

async function putTags(registry: RunningRegistry, repository: string, from: string, tags: string[]): Promise<void> {
  const manifest = (await getManifest(registry, repository, from))!;
  for (let i = 0; i < tags.length; i += 25) {
    await Promise.all(
      tags.slice(i, i + 25).map(async (tag) => {
        const res = await call(registry, {
          method: 'PUT',
          path: `/v2/${repository}/manifests/${tag}`,
          headers: { 'content-type': manifest.mediaType },
          body: () => manifest.body,
        });
        if (res.status !== 201) throw new Error(`tag ${tag}: ${describeReply(res)}`);
      }),
    );
  }
}

/** Requests SWR received while `work` ran. */
async function counted(swr: SwrStandIn, work: () => Promise<void>) {
  const before = swr.requests.length;
  const started = Date.now();
  await work();
  const sent = swr.requests.slice(before);
  return {
    sent,
    ms: Date.now() - started,
    tokens: sent.filter((r) => r.path.startsWith(SWR_REALM_PATH.replace(/\/$/, ''))).length,
    writes: sent.filter((r) => !['GET', 'HEAD'].includes(r.method)).length,
  };
}

/** `POST /api/v1/sync`, or the old tool's manual call header for header, and the wait for its job. */
async function projectSync(sut: ServiceUnderTest, project: string, how: 'api' | 'manual call' = 'api'): Promise<void> {
  const res =
    how === 'api'
      ? await fetch(`${sut.url}/api/v1/sync`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ project }),
        })
      : await fetch(`${sut.url}/service/synchronization/namespace`, {
          method: 'POST',
          headers: { Projectname: project, Namespace: `${project}-ns`, ImageOverwrite: 'false' },
        });
  if (res.status !== 202) throw new Error(`${how} for ${project}: ${res.status}`);
  const { jobId } = (await res.json()) as { jobId: string };
  const jobs = await waitForJobs(
    sut.url,
    project,
    (all) => all.some((j) => j.id === jobId && j.state !== 'queued' && j.state !== 'running'),
    600_000,
  );
  const job = jobs.find((j) => j.id === jobId)!;
  if (job.state !== 'succeeded') throw new Error(`project sync of ${project}: ${job.state}`);
}

async function webhooks(sut: ServiceUnderTest, harbor: HarborStandIn, project: string, repos: string[]) {
  const before = (await waitForJobs(sut.url, project, () => true)).filter((j) => j.spec.kind === 'image').length;
  for (const repository of repos) {
    const digest = (await getManifest(harbor.registry, `${project}/${repository}`, 'v1'))!.digest;
    const payload = harbor.webhookPayload('default', { project, repository, digest, tag: 'v1' });
    const res = await fetch(`${sut.url}/service/notifications`, {
      method: 'POST',
      headers: { 'content-type': payload.contentType },
      body: payload.body,
    });
    if (res.status !== 200) throw new Error(`webhook: ${res.status}`);
  }
  await waitForJobs(
    sut.url,
    project,
    (all) =>
      all.filter((j) => j.spec.kind === 'image' && (j.state === 'succeeded' || j.state === 'failed')).length >=
      before + repos.length,
    600_000,
  );
}

/**
 * A service mapping only `project` to `<project>-ns` on the stand-in, paced at 20 requests/s. Started on a quiet
 * tenant: the stand-in counts the last second's requests of the service before it too, which a fresh service's
 * pacing cannot know of (a real deployment has one pacer per tenant and host).
 */
async function service(harbor: HarborStandIn, swr: SwrStandIn, mode: Mode, project: string): Promise<ServiceUnderTest> {
  harbor.addProject(project, false);
  swr.namespaces.add(`${project}-ns`);
  await new Promise((resolve) => setTimeout(resolve, 1100));
  return startServiceUnderTest(harbor.host, swr.host, {
    HWAK: AK,
    HWSK: SK,
    SWRApiEndpoint: swr.url,
    SWRManageNamespaces: mode === 'management listings' ? 'true' : 'false',
    SWRRequestsPerSecond: String(RATE),
    NamespaceMap: `${project}:${project}-ns`,
    ReconcileInterval: '0',
  });
}

/** The sweep on its own project: the same image under every tag of every repository in Harbor and in SWR. */
async function sweepFigures(harbor: HarborStandIn, swr: SwrStandIn, mode: Mode, project: string) {
  const sweepRepos = Array.from({ length: SWEEP_REPOS }, (_, i) => `app-${i}`);
  const tags = Array.from({ length: SWEEP_TAGS }, (_, i) => `t${String(i).padStart(3, '0')}`);
  for (const repo of sweepRepos) {
    for (const [registry, repository] of [
      [harbor.registry, `${project}/${repo}`],
      [swr.registry, `${project}-ns/${repo}`],
    ] as const) {
      await pushImage(registry, repository, tags[0], imageOptions(`${project}-${repo}`));
      await putTags(registry, repository, tags[0], tags.slice(1));
    }
  }
  const sut = await service(harbor, swr, mode, project);
  try {
    let summary: { missing: number; differing: number } | undefined;
    const sweep = await counted(swr, async () => {
      summary = await sut.running.reconcile();
    });
    if (!summary || summary.missing + summary.differing > 0)
      throw new Error(`sweep saw changes: ${JSON.stringify(summary)}`);
    return sweep;
  } finally {
    await sut.stop();
  }
}

/** The issue's own measure: MANUAL new 2-blob images in one project, synced by the old tool's manual call. */
async function manualCallFigures(harbor: HarborStandIn, swr: SwrStandIn, mode: Mode, project: string) {
  for (let i = 0; i < MANUAL; i += 10)
    await Promise.all(
      Array.from({ length: Math.min(10, MANUAL - i) }, (_, k) =>
        pushImage(harbor.registry, `${project}/img-${i + k}`, 'v1', imageOptions(`${project}-img-${i + k}`)),
      ),
    );
  const sut = await service(harbor, swr, mode, project);
  try {
    return await counted(swr, () => projectSync(sut, project, 'manual call'));
  } finally {
    await sut.stop();
  }
}

async function measure(harbor: HarborStandIn, swr: SwrStandIn, mode: Mode, project: string): Promise<Figures> {
  const rejectedBefore = swr.rejected503;
  const manual = await manualCallFigures(harbor, swr, mode, `${project}manual`);
  const fresh = Array.from({ length: IMAGES }, (_, i) => `new-${i}`);
  const sample = fresh.slice(0, Math.min(5, IMAGES));
  for (const repo of fresh)
    await pushImage(harbor.registry, `${project}/${repo}`, 'v1', imageOptions(`${project}-${repo}`));
  const sweep = await sweepFigures(harbor, swr, mode, `${project}sweep`);
  const sut = await service(harbor, swr, mode, project);
  try {
    const sync = await counted(swr, () => projectSync(sut, project));
    const again = await counted(swr, () => projectSync(sut, project));
    const hook = await counted(swr, () => webhooks(sut, harbor, project, sample));
    const mountedRepos = sample.map((r) => `mounted-${r}`);
    for (const repo of mountedRepos)
      await pushImage(harbor.registry, `${project}/${repo}`, 'v1', imageOptions(`${project}-${repo.slice(8)}`));
    const mounted = await counted(swr, () => webhooks(sut, harbor, project, mountedRepos));
    return {
      newImage: sync.sent.length / IMAGES,
      tokensPerSync: sync.tokens,
      unchangedSync: again.sent.length / IMAGES,
      unchangedWebhook: hook.sent.length / sample.length,
      mounted: mounted.sent.length / mountedRepos.length,
      sweepRequests: sweep.sent.length,
      sweepMs: sweep.ms,
      sweepWrites: sweep.writes,
      manualRequests: manual.sent.length,
      manualMs: manual.ms,
      rejected503: swr.rejected503 - rejectedBefore,
    };
  } finally {
    await sut.stop();
  }
}

function table(rows: Array<[Mode, Figures]>): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const f = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(2));
  const out = [
    line(['measure (SWR stand-in, 20 requests/s)', ...rows.map(([mode]) => mode)]),
    line(['---', ...rows.map(() => '---')]),
  ];
  const add = (label: string, pick: (x: Figures) => string) => out.push(line([label, ...rows.map(([, x]) => pick(x))]));
  add(`requests per new 2-blob image (project sync of ${IMAGES})`, (x) => f(x.newImage));
  add('token requests in that project sync', (x) => f(x.tokensPerSync));
  add('requests per unchanged tag (project sync again)', (x) => f(x.unchangedSync));
  add('requests per unchanged image (webhook job)', (x) => f(x.unchangedWebhook));
  add('requests per mounted image (webhook job)', (x) => f(x.mounted));
  add(`sweep over ${SWEEP_REPOS * SWEEP_TAGS} unchanged tags in ${SWEEP_REPOS} repositories: requests`, (x) =>
    f(x.sweepRequests),
  );
  add('sweep: wall time', (x) => `${(x.sweepMs / 1000).toFixed(1)} s`);
  add('sweep: writes', (x) => f(x.sweepWrites));
  add(`${MANUAL} new 2-blob images by the manual call: requests`, (x) => f(x.manualRequests));
  add(`${MANUAL} new images by the manual call: wall time`, (x) => `${(x.manualMs / 1000).toFixed(1)} s`);
  add('503 answers (all of the above)', (x) => f(x.rejected503));
  return out.join('\n');
}

async function main(): Promise<void> {
  const [harbor, swr] = await Promise.all([
    startHarbor({ projects: [] }),
    startSwr({ ak: AK, sk: SK, namespaces: [], requestsPerSecond: RATE }),
  ]);
  try {
    const rows: Array<[Mode, Figures]> = [];
    rows.push(['registry API', await measure(harbor, swr, 'registry API', 'benchreg')]);
    rows.push(['management listings', await measure(harbor, swr, 'management listings', 'benchmgmt')]);
    console.log(table(rows));
    if (process.env.BENCH_SWR_DEBUG)
      console.log(
        swr.requests
          .filter((r) => r.status === 503)
          .map((r) => {
            const window = swr.requests.filter((o) => o.at > r.at - 1000 && o.at <= r.at && o.status !== 503);
            const shown = window.map((o) => `  ${o.at - r.at} ms ${o.method} ${o.path.slice(0, 70)}`).join('\n');
            return `${r.method} ${r.path.slice(0, 60)}: ${window.length} let through in the second before\n${shown}`;
          })
          .join('\n'),
      );
  } finally {
    await Promise.all([harbor.stop(), swr.stop()]);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
