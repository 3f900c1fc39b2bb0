// The destination's state read from SWR's management API (the stand-in's listings, answered from its real
// registry): a sweep over unchanged tags costs about one listing per repository and no HEAD, an unchanged
// image found by a webhook job one listing, a project sync no tags/list at all; when the API refuses, the
// registry API answers instead, with one warning.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, test } from '@jest/globals';
import type { Job } from '../../src/jobs/types.js';
import { startHarbor, type HarborStandIn } from '../harness/harbor/index.js';
import { getManifest, pushImage } from '../harness/images.js';
import { call, describe as describeReply } from '../harness/registry-http.js';
import type { RunningRegistry } from '../harness/registry.js';
import { settled, startServiceUnderTest, waitForJobs, type ServiceUnderTest } from '../harness/service.js';
import { startSwr, type SwrStandIn } from '../harness/swr/index.js';

const AK = 'SWRLISTINGACCESSKEY1';
const SK = 'swr-listing-secret-key-0123456789ab';

let harbor: HarborStandIn;
let swr: SwrStandIn;
let sut: ServiceUnderTest | undefined;

beforeAll(async () => {
  [harbor, swr] = await Promise.all([
    startHarbor({ projects: [] }),
    startSwr({ ak: AK, sk: SK, namespaces: [], requestsPerSecond: 0 }),
  ]);
});

afterEach(async () => {
  await sut?.stop();
  sut = undefined;
  swr.refuseManagement = false;
});

afterAll(async () => {
  await Promise.all([harbor?.stop(), swr?.stop()]);
});

/** A service mapping `project` to `<project>-ns` on the SWR stand-in, its management API in use. */
async function serviceFor(project: string): Promise<ServiceUnderTest> {
  harbor.addProject(project, false);
  swr.namespaces.add(`${project}-ns`);
  sut = await startServiceUnderTest(harbor.host, swr.host, {
    HWAK: AK,
    HWSK: SK,
    SWRApiEndpoint: swr.url,
    SWRManageNamespaces: 'true',
    NamespaceMap: `${project}:${project}-ns`,
    ReconcileInterval: '0',
  });
  return sut;
}

async function putTags(registry: RunningRegistry, repository: string, from: string, tags: string[]): Promise<void> {
  const manifest = (await getManifest(registry, repository, from))!;
  for (const tag of tags) {
    const res = await call(registry, {
      method: 'PUT',
      path: `/v2/${repository}/manifests/${tag}`,
      headers: { 'content-type': manifest.mediaType },
      body: () => manifest.body,
    });
    if (res.status !== 201) throw new Error(`tag ${tag}: ${describeReply(res)}`);
  }
}

/** The same image under `tags` in Harbor's `<project>/<repo>` and, when `mirrored`, in SWR's `<project>-ns/<repo>`. */
async function image(project: string, repo: string, tags: string[], mirrored = true): Promise<string> {
  const options = { format: 'docker' as const, layers: [{ seed: `listing-${project}-${repo}`, size: 5_000 }] };
  const pushed = await pushImage(harbor.registry, `${project}/${repo}`, tags[0], options);
  await putTags(harbor.registry, `${project}/${repo}`, tags[0], tags.slice(1));
  if (mirrored) {
    const copy = await pushImage(swr.registry, `${project}-ns/${repo}`, tags[0], options);
    expect(copy.digest).toBe(pushed.digest);
    await putTags(swr.registry, `${project}-ns/${repo}`, tags[0], tags.slice(1));
  }
  return pushed.digest;
}

const tagNames = (n: number) => Array.from({ length: n }, (_, i) => `t${String(i).padStart(3, '0')}`);
const writes = (requests: SwrStandIn['requests']) => requests.filter((r) => r.method !== 'GET' && r.method !== 'HEAD');
const imageJobs = (jobs: Job[]) => jobs.filter((j) => j.spec.kind === 'image');

test('a sweep over unchanged tags in 8 repositories sends one listing per repository, no HEAD, writes nothing', async () => {
  const REPOS = 8;
  const TAGS = 15;
  for (let r = 0; r < REPOS; r++) await image('sweep', `app-${r}`, tagNames(TAGS));
  await serviceFor('sweep');
  const before = swr.requests.length;
  const summary = (await sut!.running.reconcile())!;
  const sent = swr.requests.slice(before);
  expect(summary).toMatchObject({ tags: REPOS * TAGS, missing: 0, differing: 0, queued: 0, errors: 0 });
  // One namespace listing and one tag listing per repository (pages of 100 tags).
  expect(sent.filter((r) => r.path.startsWith('/v2/manage/repos?'))).toHaveLength(1);
  expect(sent.filter((r) => /\/v2\/manage\/namespaces\/[^/]+\/repos\/[^/]+\/tags/.test(r.path))).toHaveLength(REPOS);
  expect(sent.length).toBeLessThanOrEqual(REPOS + 3);
  expect(sent.filter((r) => r.method === 'HEAD')).toEqual([]);
  expect(writes(sent)).toEqual([]);
  expect(summary.requests.destination).toBe(sent.length);
}, 120_000);

test('a missing tag is found by the listings and queued; a repository SWR does not have is missing as a whole', async () => {
  const digest = await image('gap', 'app', ['v1', 'v2']);
  await putTags(harbor.registry, 'gap/app', 'v1', ['v3']);
  await image('gap', 'fresh', ['v1'], false);
  await serviceFor('gap');
  const summary = (await sut!.running.reconcile())!;
  expect(summary).toMatchObject({ tags: 4, missing: 2, queued: 2, errors: 0 });
  const jobs = await waitForJobs(sut!.url, 'gap', (all) => settled(imageJobs(all), 2), 60_000);
  expect(imageJobs(jobs).map((j) => j.state)).toEqual(['succeeded', 'succeeded']);
  expect((await getManifest(swr.registry, 'gap-ns/app', 'v3'))?.digest).toBe(digest);
  expect((await getManifest(swr.registry, 'gap-ns/fresh', 'v1'))?.digest).toBeDefined();
}, 120_000);

test('an unchanged image found by a webhook job costs one SWR request', async () => {
  const digest = await image('hook', 'app', ['v1']);
  await serviceFor('hook');
  const before = swr.requests.length;
  const payload = harbor.webhookPayload('default', { project: 'hook', repository: 'app', digest, tag: 'v1' });
  const res = await fetch(`${sut!.url}/service/notifications`, {
    method: 'POST',
    headers: { 'content-type': payload.contentType },
    body: payload.body,
  });
  expect(res.status).toBe(200);
  const jobs = await waitForJobs(sut!.url, 'hook', (all) => settled(imageJobs(all), 1), 60_000);
  expect(imageJobs(jobs)[0].results[0]).toMatchObject({ status: 'skipped', skip: 'same-digest' });
  const sent = swr.requests.slice(before).filter((r) => r.path !== '/v2/manage/namespaces');
  // The namespace check (ensureNamespace) is the management API's own, asked once per namespace per process.
  expect(sent.length).toBeLessThanOrEqual(2);
  expect(sent.map((r) => r.path)).toEqual(['/v2/manage/namespaces/hook-ns/repos/app/tags?limit=100&offset=0']);
}, 60_000);

test('a project sync reads one namespace listing: unchanged tags cost nothing, new repositories no tags/list', async () => {
  for (let r = 0; r < 4; r++) await image('proj', `same-${r}`, tagNames(3));
  for (let r = 0; r < 2; r++) await image('proj', `new-${r}`, ['v1'], false);
  await serviceFor('proj');
  const before = swr.requests.length;
  const res = await fetch(`${sut!.url}/api/v1/sync`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ project: 'proj' }),
  });
  expect(res.status).toBe(202);
  const { jobId } = (await res.json()) as { jobId: string };
  const jobs = await waitForJobs(
    sut!.url,
    'proj',
    (all) => all.some((j) => j.id === jobId && j.state !== 'queued' && j.state !== 'running'),
    60_000,
  );
  const job = jobs.find((j) => j.id === jobId)!;
  expect(job.state).toBe('succeeded');
  const statuses = job.results.map((r) => r.status).sort();
  expect(statuses).toEqual([...Array<string>(2).fill('copied'), ...Array<string>(12).fill('skipped')]);
  const sent = swr.requests.slice(before);
  expect(sent.filter((r) => r.path.startsWith('/v2/manage/repos?'))).toHaveLength(1);
  expect(sent.filter((r) => r.path.includes('/tags/list'))).toEqual([]);
  // The unchanged tags: no manifest request names them.
  expect(sent.filter((r) => /\/v2\/proj-ns\/same-/.test(r.path))).toEqual([]);
  // The new repositories: no blob HEAD either (a repository absent from the listing cannot hold them).
  expect(sent.filter((r) => r.method === 'HEAD' && r.path.includes('/blobs/'))).toEqual([]);
  // One token for both new repositories, asked before the copies; none for the unchanged ones.
  expect(sent.filter((r) => r.path.startsWith('/swr/auth/'))).toHaveLength(1);
}, 120_000);

test('when the management API refuses, the sweep compares through the registry API and says so once', async () => {
  for (let r = 0; r < 3; r++) await image('refused', `app-${r}`, tagNames(4));
  await serviceFor('refused');
  swr.refuseManagement = true;
  const before = swr.requests.length;
  const summary = (await sut!.running.reconcile())!;
  expect(summary).toMatchObject({ tags: 12, missing: 0, differing: 0, queued: 0, errors: 0 });
  const sent = swr.requests.slice(before);
  expect(sent.filter((r) => r.path.startsWith('/v2/manage/'))).toHaveLength(1);
  expect(sent.filter((r) => r.method === 'HEAD' && r.path.includes('/manifests/'))).toHaveLength(12);
  expect(writes(sent)).toEqual([]);
  const logs = await Promise.all(
    (await readdir(sut!.logDir)).map((name) => readFile(join(sut!.logDir, name), 'utf8').catch(() => '')),
  );
  const warnings = logs.join('\n').match(/SWR management API cannot list the destination/g) ?? [];
  expect(warnings).toHaveLength(1);
}, 120_000);
