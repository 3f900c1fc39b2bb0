// Whole-project syncs through the old tool's manual call: every repository and tag of a project with more
// than one page of repositories, and a sync that survives a restart of the service half way through.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { startHarbor, type HarborStandIn } from '../harness/harbor/index.js';
import { assertImageComplete, getManifest, listTags, pushImage } from '../harness/images.js';
import { call } from '../harness/registry-http.js';
import { startRegistry, type RunningRegistry } from '../harness/registry.js';
import { startServiceUnderTest, waitForJobs, type ServiceUnderTest } from '../harness/service.js';

let harbor: HarborStandIn;
let dst: RunningRegistry;
let sut: ServiceUnderTest;

beforeAll(async () => {
  [harbor, dst] = await Promise.all([
    startHarbor({
      projects: [
        { name: 'pub', public: true },
        { name: 'proj', public: false },
      ],
    }),
    startRegistry(),
  ]);
  sut = await startServiceUnderTest(harbor.host, dst.host);
});

afterAll(async () => {
  await sut?.stop();
  await Promise.all([harbor?.stop(), dst?.stop()]);
});

/** The old tool's call, header for header. */
function manualSync(headers: Record<string, string>) {
  return fetch(`${sut.url}/service/synchronization/namespace`, { method: 'POST', headers });
}

/** Many repositories cheaply: one real push, then mounts and a manifest PUT per repository in the backing registry. */
async function fanOut(project: string, count: number): Promise<string[]> {
  const seed = await pushImage(harbor.access, `${project}/r000`, 'v1', {
    format: 'docker',
    layers: [{ seed: `${project}-fan`, size: 20_000 }],
  });
  const manifest = (await getManifest(harbor.registry, `${project}/r000`, 'v1'))!.body;
  const names = Array.from({ length: count - 1 }, (_, i) => `${project}/r${String(i + 1).padStart(3, '0')}`);
  const one = async (repo: string) => {
    for (const blob of [seed.config, ...seed.layers]) {
      const mounted = await call(harbor.registry, {
        method: 'POST',
        path: `/v2/${repo}/blobs/uploads/?mount=${blob.digest}&from=${project}/r000`,
        repo,
      });
      expect(mounted.status).toBe(201);
    }
    const put = await call(harbor.registry, {
      method: 'PUT',
      path: `/v2/${repo}/manifests/v1`,
      repo,
      headers: { 'content-type': seed.mediaType },
      body: () => manifest,
    });
    expect(put.status).toBe(201);
  };
  for (let i = 0; i < names.length; i += 8) await Promise.all(names.slice(i, i + 8).map(one));
  return [`${project}/r000`, ...names];
}

test('the manual call syncs every repository of a project with more than 100 repositories', async () => {
  const repos = await fanOut('pub', 102);
  const res = await manualSync({
    Projectname: 'pub',
    Namespace: 'bulk',
    // No credentials in headers: the configured ones serve (and on Redis, header credentials are refused).
    ImageOverwrite: 'false',
  });
  expect(res.status).toBe(202);
  const answer = (await res.json()) as { jobId: string; status: string };
  expect(answer.status).toBe(`/api/v1/jobs/${answer.jobId}`);
  const [job] = await waitForJobs(
    sut.url,
    'pub',
    (jobs) => jobs.some((j) => j.id === answer.jobId && j.state === 'succeeded'),
    60_000,
  ).then((jobs) => jobs.filter((j) => j.id === answer.jobId));
  expect(job.results).toHaveLength(102);
  expect(job.results.every((r) => r.status === 'copied')).toBe(true);
  // One upload of the shared blobs, mounts for the other 101 repositories.
  expect(job.results.reduce((n, r) => n + r.blobsUploaded, 0)).toBe(2);
  // Harbor's repository listing was paged (page_size is capped at 100).
  expect(
    harbor.requests.filter((r) => r.path.startsWith('/api/v2.0/projects/pub/repositories?')).length,
  ).toBeGreaterThanOrEqual(2);
  for (const repo of [repos[0], repos[57], repos[101]]) {
    const name = repo.slice('pub/'.length);
    expect(await listTags(dst, `bulk/${name}`)).toEqual(['v1']);
    await assertImageComplete(dst, `bulk/${name}`, 'v1');
  }
}, 120_000);

test('a project sync interrupted by a restart resumes and finishes', async () => {
  for (let i = 0; i < 6; i++) {
    await pushImage(harbor.access, `proj/resume-${i}`, 'v1', {
      format: 'oci',
      layers: [
        { seed: `resume-${i}-a`, size: 3_000_000 },
        { seed: `resume-${i}-b`, size: 3_000_000 },
      ],
    });
  }
  const res = await fetch(`${sut.url}/api/v1/sync`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ project: 'proj' }),
  });
  expect(res.status).toBe(202);
  const { jobId } = (await res.json()) as { jobId: string };
  await waitForJobs(sut.url, 'proj', (jobs) => jobs.some((j) => j.id === jobId && j.state === 'running'));
  // Stop at once, with no grace for running copies; the job stays recorded as running.
  await sut.restart();
  const jobs = await waitForJobs(
    sut.url,
    'proj',
    (all) => all.some((j) => j.id === jobId && (j.state === 'succeeded' || j.state === 'failed')),
    60_000,
  );
  const job = jobs.find((j) => j.id === jobId)!;
  expect(job.state).toBe('succeeded');
  expect(job.attempts).toBeGreaterThanOrEqual(2);
  for (let i = 0; i < 6; i++) {
    expect((await getManifest(dst, `mirror/resume-${i}`, 'v1'))?.digest).toBe(
      (await getManifest(harbor.registry, `proj/resume-${i}`, 'v1'))!.digest,
    );
    await assertImageComplete(dst, `mirror/resume-${i}`, 'v1');
  }
}, 120_000);
