// The reconcile sweep end to end: what Harbor never announced (a tag added to an existing artifact, a push
// whose webhook was lost) reaches the destination, an unchanged project queues nothing, a differing tag
// follows ImageOverwrite, a converted image stays in step, and a sweep over 1,000 unchanged tags costs
// listings and HEADs only. Each test maps its own Harbor project, so leftovers of one cannot move another.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, test } from '@jest/globals';
import type { Job } from '../../src/jobs/types.js';
import { startFaultProxy, type FaultProxy } from '../harness/fault-proxy.js';
import { startHarbor, type HarborStandIn } from '../harness/harbor/index.js';
import { assertImageComplete, getManifest, listTags, pushImage } from '../harness/images.js';
import { call, describe as describeReply } from '../harness/registry-http.js';
import { startRegistry, type RunningRegistry } from '../harness/registry.js';
import { jobsOf, settled, startServiceUnderTest, waitForJobs, type ServiceUnderTest } from '../harness/service.js';

let harbor: HarborStandIn;
let dst: RunningRegistry;
let proxy: FaultProxy;
let sut: ServiceUnderTest | undefined;

beforeAll(async () => {
  [harbor, dst] = await Promise.all([startHarbor({ projects: [] }), startRegistry()]);
  proxy = await startFaultProxy(dst.url);
});

afterEach(async () => {
  await sut?.stop();
  sut = undefined;
});

afterAll(async () => {
  await proxy?.stop();
  await Promise.all([harbor?.stop(), dst?.stop()]);
});

const made = new Set<string>();

/** A service mapping only `project` (to `<project>-ns`), with no sweep unless asked. */
async function serviceFor(
  project: string,
  extra: Record<string, string> = {},
  destinationHost = dst.host,
): Promise<ServiceUnderTest> {
  if (!made.has(project)) harbor.addProject(project, false);
  sut = await startServiceUnderTest(harbor.host, destinationHost, {
    NamespaceMap: `${project}:${project}-ns`,
    ReconcileInterval: '0',
    ...extra,
  });
  return sut;
}

async function sweep() {
  const summary = await sut!.running.reconcile();
  if (!summary) throw new Error('no sweep ran');
  return summary;
}

const imageJobs = (jobs: Job[], repository?: string) =>
  jobs.filter((j) => j.spec.kind === 'image' && (repository === undefined || j.spec.repository === repository));

async function expectMirrored(project: string, repo: string, tag: string): Promise<void> {
  const source = await getManifest(harbor.registry, `${project}/${repo}`, tag);
  expect((await getManifest(dst, `${project}-ns/${repo}`, tag))?.digest).toBe(source!.digest);
  await assertImageComplete(dst, `${project}-ns/${repo}`, tag);
}

test('a tag added in Harbor without a webhook is synced by the interval sweep', async () => {
  await serviceFor('added', { ReconcileInterval: '1s' });
  const image = await pushImage(harbor.access, 'added/app', 'v1', {
    format: 'docker',
    layers: [{ seed: 'reconcile-added', size: 20_000 }],
  });
  // The push itself is announced and synced.
  const payload = harbor.webhookPayload('default', {
    project: 'added',
    repository: 'app',
    digest: image.digest,
    tag: 'v1',
  });
  expect(
    (
      await fetch(`${sut!.url}/service/notifications`, {
        method: 'POST',
        headers: { 'content-type': payload.contentType },
        body: payload.body,
      })
    ).status,
  ).toBe(200);
  await waitForJobs(sut!.url, 'added', (jobs) => imageJobs(jobs).some((j) => j.state === 'succeeded'));
  // Harbor's "add tag" sends nothing: only the timer's sweep can find it.
  await harbor.addTag('added/app', image.digest, 'stable');
  const jobs = await waitForJobs(
    sut!.url,
    'added',
    (all) =>
      imageJobs(all).some((j) => j.spec.kind === 'image' && j.spec.tags.includes('stable') && j.state === 'succeeded'),
    20_000,
  );
  const byReconcile = imageJobs(jobs).find((j) => j.spec.kind === 'image' && j.spec.tags.includes('stable'))!;
  expect(byReconcile.spec).toMatchObject({ digest: image.digest, tags: ['stable'], namespace: 'added-ns' });
  expect((await listTags(dst, 'added-ns/app')).sort()).toEqual(['stable', 'v1']);
  await expectMirrored('added', 'app', 'stable');
});

test('images pushed with no webhook are synced at start with ReconcileOnStart=true', async () => {
  harbor.addProject('boot', false);
  const v1 = await pushImage(harbor.access, 'boot/app', 'v1', {
    format: 'docker',
    layers: [{ seed: 'reconcile-boot-1', size: 20_000 }],
  });
  const v2 = await pushImage(harbor.access, 'boot/app', 'v2', {
    format: 'oci',
    layers: [{ seed: 'reconcile-boot-2', size: 20_000 }],
  });
  await harbor.addTag('boot/app', v2.digest, 'latest');
  await pushImage(harbor.access, 'boot/tools/cli', '1.0', {
    format: 'docker',
    layers: [{ seed: 'reconcile-boot-3', size: 10_000 }],
  });
  sut = await startServiceUnderTest(harbor.host, dst.host, {
    NamespaceMap: 'boot:boot-ns',
    ReconcileInterval: '0',
    ReconcileOnStart: 'true',
  });
  const jobs = imageJobs(await waitForJobs(sut.url, 'boot', (all) => settled(imageJobs(all), 3)));
  // One job per artifact, carrying all of its tags.
  expect(jobs).toHaveLength(3);
  expect(jobs.every((j) => j.state === 'succeeded')).toBe(true);
  expect(jobs.find((j) => j.spec.kind === 'image' && j.spec.digest === v2.digest)?.spec).toMatchObject({
    tags: ['latest', 'v2'],
  });
  expect(jobs.find((j) => j.spec.kind === 'image' && j.spec.digest === v1.digest)?.spec).toMatchObject({
    tags: ['v1'],
  });
  for (const tag of ['v1', 'v2', 'latest']) await expectMirrored('boot', 'app', tag);
  await expectMirrored('boot', 'tools/cli', '1.0');
  expect(await readFile(join(sut.logDir, 'running.log'), 'utf8')).toMatch(
    /reconcile: 1 project\(s\), 2 repositories, 4 tags: 4 missing, 0 differing .* 3 job\(s\) queued/,
  );
});

test('a sweep over an unchanged project queues nothing, and only one sweep runs at a time', async () => {
  await serviceFor('calm');
  await pushImage(harbor.access, 'calm/app', 'v1', {
    format: 'docker',
    layers: [{ seed: 'reconcile-calm-1', size: 10_000 }],
  });
  await pushImage(harbor.access, 'calm/app', 'v2', {
    format: 'oci',
    layers: [{ seed: 'reconcile-calm-2', size: 10_000 }],
  });
  const first = await sweep();
  expect(first).toMatchObject({ projects: 1, tags: 2, missing: 2, queued: 2 });
  await waitForJobs(
    sut!.url,
    'calm',
    (all) => settled(imageJobs(all), 2) && imageJobs(all).every((j) => j.state === 'succeeded'),
  );

  const a = sut!.running.reconcile();
  const b = sut!.running.reconcile();
  expect(b).toBe(a);
  const again = (await a)!;
  expect(again).toMatchObject({
    projects: 1,
    repositories: 1,
    tags: 2,
    missing: 0,
    differing: 0,
    converted: 0,
    queued: 0,
    merged: 0,
    errors: 0,
  });
  expect(imageJobs(await jobsOf(sut!.url, 'calm'))).toHaveLength(2);
});

test('a differing destination tag is left alone with ImageOverwrite=false and replaced with true', async () => {
  await serviceFor('differ', { ImageOverwrite: 'false' });
  const wanted = await pushImage(harbor.access, 'differ/app', 'v1', {
    format: 'docker',
    layers: [{ seed: 'reconcile-differ-src', size: 10_000 }],
  });
  const other = await pushImage(dst, 'differ-ns/app', 'v1', {
    format: 'docker',
    layers: [{ seed: 'reconcile-differ-dst', size: 10_000 }],
  });

  const kept = await sweep();
  expect(kept).toMatchObject({ tags: 1, missing: 0, differing: 1, queued: 0, merged: 0 });
  expect(imageJobs(await jobsOf(sut!.url, 'differ'))).toEqual([]);
  expect(await readFile(join(sut!.logDir, 'differ-running.log'), 'utf8')).toContain(
    `differ-ns/app:v1 points at ${other.digest}, Harbor has ${wanted.digest}; not queued (ImageOverwrite=false)`,
  );
  expect((await getManifest(dst, 'differ-ns/app', 'v1'))?.digest).toBe(other.digest);

  await sut!.restart({ ImageOverwrite: 'true' });
  const replaced = await sweep();
  expect(replaced).toMatchObject({ tags: 1, differing: 1, queued: 1 });
  const jobs = await waitForJobs(sut!.url, 'differ', (all) => settled(imageJobs(all), 1));
  expect(imageJobs(jobs)[0]).toMatchObject({ state: 'succeeded', spec: { digest: wanted.digest, tags: ['v1'] } });
  await expectMirrored('differ', 'app', 'v1');
  expect(await sweep()).toMatchObject({ differing: 0, queued: 0, merged: 0 });
});

test('an OCI image converted to Docker format at the destination is in step, not queued again', async () => {
  await serviceFor('conv', { ManifestFormat: 'docker', ImageOverwrite: 'true' });
  const image = await pushImage(harbor.access, 'conv/app', 'v1', {
    format: 'oci',
    layers: [{ seed: 'reconcile-conv', size: 10_000 }],
  });
  expect(await sweep()).toMatchObject({ missing: 1, queued: 1 });
  const jobs = await waitForJobs(sut!.url, 'conv', (all) => settled(imageJobs(all), 1));
  expect(imageJobs(jobs)[0].results[0]).toMatchObject({ status: 'copied', converted: true });
  expect((await getManifest(dst, 'conv-ns/app', 'v1'))?.digest).not.toBe(image.digest);

  const again = await sweep();
  expect(again).toMatchObject({ tags: 1, missing: 0, converted: 1, differing: 0, queued: 0, merged: 0 });
  // The conversion's digest is remembered: a later sweep reads no source manifest.
  expect((await sweep()).requests.source).toBe(0);
  expect(imageJobs(await jobsOf(sut!.url, 'conv'))).toHaveLength(1);
});

test('a sweep over an unchanged project of 1,000 tags sends only listings and HEADs', async () => {
  const TAGS = 1000;
  harbor.addProject('big', false);
  made.add('big');
  // One image, then 999 more tags on it written straight into Harbor's backing registry.
  const image = await pushImage(harbor.registry, 'big/app', 't0000', {
    format: 'docker',
    layers: [{ seed: 'reconcile-big', size: 10_000 }],
  });
  const manifest = (await getManifest(harbor.registry, 'big/app', 't0000'))!;
  const names = Array.from({ length: TAGS }, (_, i) => `t${String(i).padStart(4, '0')}`);
  for (let i = 1; i < TAGS; i += 25) {
    await Promise.all(
      names.slice(i, i + 25).map(async (tag) => {
        const res = await call(harbor.registry, {
          method: 'PUT',
          path: `/v2/big/app/manifests/${tag}`,
          headers: { 'content-type': manifest.mediaType },
          body: () => manifest.body,
        });
        if (res.status !== 201) throw new Error(`tag ${tag}: ${describeReply(res)}`);
      }),
    );
  }
  await serviceFor('big', {}, proxy.host);

  // First sweep: everything missing, one job for the one digest with its 1,000 tags.
  const first = await sweep();
  expect(first).toMatchObject({ tags: TAGS, missing: TAGS, queued: 1 });
  const jobs = await waitForJobs(sut!.url, 'big', (all) => settled(imageJobs(all), 1), 240_000);
  expect(imageJobs(jobs)[0]).toMatchObject({ state: 'succeeded' });
  expect((await listTags(dst, 'big-ns/app')).length).toBe(TAGS);
  expect((await getManifest(dst, 'big-ns/app', 't0999'))?.digest).toBe(image.digest);

  proxy.requests.length = 0;
  const harborBefore = harbor.requests.length;
  const started = Date.now();
  const summary = await sweep();
  const wallMs = Date.now() - started;
  const sent = [...proxy.requests];
  const byMethod = sent.reduce<Record<string, number>>((n, r) => ((n[r.method] = (n[r.method] ?? 0) + 1), n), {});
  const harborApi = harbor.requests.slice(harborBefore).filter((r) => r.path.startsWith('/api/'));
  // How much of that is the Harbor stand-in deriving 1,000 tags from its backing registry (not the sweep's cost).
  const listed = Date.now();
  const artifacts = await fetch(
    `${harbor.url}/api/v2.0/projects/big/repositories/app/artifacts?with_tag=true&page=1&page_size=100`,
    {
      headers: { authorization: `Basic ${Buffer.from('admin:Harbor12345').toString('base64')}` },
    },
  );
  expect(artifacts.status).toBe(200);
  await artifacts.arrayBuffer();
  const harborListingMs = Date.now() - listed;
  console.log(
    `reconcile sweep over ${TAGS} unchanged tags: ${wallMs} ms wall (of which about ${harborListingMs} ms is the Harbor stand-in's artifact listing); destination requests ${sent.length} ${JSON.stringify(byMethod)}; Harbor API requests ${harborApi.length}`,
  );

  expect(summary).toMatchObject({ tags: TAGS, missing: 0, differing: 0, queued: 0, merged: 0, errors: 0 });
  expect(byMethod.HEAD).toBe(TAGS);
  expect(sent.filter((r) => r.method !== 'HEAD' && r.method !== 'GET')).toEqual([]);
  // GETs: the tag listing (1,000 per page), nothing else; no manifest or blob reads.
  expect(sent.filter((r) => r.method === 'GET' && !/\/tags\/list/.test(r.path) && r.path !== '/v2/')).toEqual([]);
  expect(sent.length).toBeLessThanOrEqual(TAGS + 5);
  expect(harborApi.length).toBeLessThanOrEqual(3);
  expect(imageJobs(await jobsOf(sut!.url, 'big'))).toHaveLength(1);
}, 300_000);
