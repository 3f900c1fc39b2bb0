// Several destinations end to end: a project mapped to two SWR stand-ins (the default destination and one
// declared in Destinations, another region and account), each over its own real registry. A webhook, a project
// sync and the sweep each make one job per destination, every image lands in both, each destination's namespaces
// are checked and created in its own SWR; and with one destination stopped the other completes while the stopped
// one's jobs retry and fail on their own.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import type { Job } from '../../src/jobs/types.js';
import { startHarbor, type HarborStandIn } from '../harness/harbor/index.js';
import { assertImageComplete, getManifest, pushImage } from '../harness/images.js';
import { startServiceUnderTest, waitForJobs, type ServiceUnderTest } from '../harness/service.js';
import { startSwr, swrLoginKey, type SwrStandIn } from '../harness/swr/index.js';

const MAIN = { ak: 'DESTMAINACCESSKEY001', sk: 'dest-main-secret-key-0123456789ab' };
const DR = { ak: 'DESTDRACCESSKEY00001', sk: 'dest-dr-secret-key-0123456789abcd' };

let harbor: HarborStandIn;
let main: SwrStandIn;
let dr: SwrStandIn;
let drStopped = false;
let sut: ServiceUnderTest;

beforeAll(async () => {
  [harbor, main, dr] = await Promise.all([
    startHarbor({ projects: [{ name: 'proj', public: false }] }),
    // Each tenant owns its namespace in its own SWR only: a check asked of the wrong SWR would fail the job.
    startSwr({ ...MAIN, region: 'cn-north-4', namespaces: ['mirror'], requestsPerSecond: 0 }),
    startSwr({ ...DR, region: 'cn-south-1', namespaces: ['mirror-dr'], requestsPerSecond: 0 }),
  ]);
  sut = await startServiceUnderTest(harbor.host, main.host, {
    HWAK: MAIN.ak,
    HWSK: MAIN.sk,
    RegionName: 'cn-north-4',
    SWRApiEndpoint: main.url,
    SWRManageNamespaces: 'true',
    Destinations: 'dr',
    dr_HWAuthMethod: 'AKSK',
    dr_HWAK: DR.ak,
    dr_HWSK: DR.sk,
    dr_RegionName: 'cn-south-1',
    dr_SWRRegistry: dr.host,
    dr_SWRProtocol: 'http',
    dr_SWRApiEndpoint: dr.url,
    dr_SWRManageNamespaces: 'true',
    dr_SWRRequestsPerSecond: '0',
    NamespaceMap: 'proj:mirror,dr/mirror-dr',
    ReconcileInterval: '0',
    JobRetries: '1',
  });
}, 60_000);

afterAll(async () => {
  await sut?.stop();
  await Promise.all([harbor?.stop(), main?.stop(), drStopped ? undefined : dr?.stop()]);
});

async function webhook(repository: string, tag: string | undefined, digest: string): Promise<Record<string, unknown>> {
  const payload = harbor.webhookPayload('default', { project: 'proj', repository, digest, tag });
  const res = await fetch(`${sut.url}/service/notifications`, {
    method: 'POST',
    headers: { 'content-type': payload.contentType },
    body: payload.body,
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

const final = (j: Job) => j.state === 'succeeded' || j.state === 'failed' || j.state === 'skipped';
const ofRepository = (repository: string) => (jobs: Job[]) =>
  jobs.filter((j) => j.spec.kind === 'image' && j.spec.repository === repository);

async function expectAt(swr: SwrStandIn, namespace: string, repository: string, tag: string, digest: string) {
  expect((await getManifest(swr.registry, `${namespace}/${repository}`, tag))?.digest).toBe(digest);
  await assertImageComplete(swr.registry, `${namespace}/${repository}`, tag);
}

test('a webhook push makes one job per destination, and the image lands in both', async () => {
  const image = await pushImage(harbor.access, 'proj/hooked/app', 'v1', {
    format: 'docker',
    layers: [{ seed: 'dest-hooked', size: 40_000 }],
  });
  const answer = await webhook('hooked/app', 'v1', image.digest);
  expect(answer.accepted).toBe(2);
  expect(answer.jobs).toHaveLength(2);

  const jobs = ofRepository('hooked/app')(
    await waitForJobs(sut.url, 'proj', (all) => {
      const mine = ofRepository('hooked/app')(all);
      return mine.length === 2 && mine.every(final);
    }),
  );
  expect(jobs.map((j) => [j.spec.destination, j.spec.namespace, j.state]).sort()).toEqual(
    [
      [main.host, 'mirror', 'succeeded'],
      [dr.host, 'mirror-dr', 'succeeded'],
    ].sort(),
  );
  await expectAt(main, 'mirror', 'hooked/app', 'v1', image.digest);
  await expectAt(dr, 'mirror-dr', 'hooked/app', 'v1', image.digest);
  // Each destination's namespace was checked in its own SWR's management API (signed with its own keys).
  for (const swr of [main, dr])
    expect(swr.requests).toContainEqual(
      expect.objectContaining({ method: 'GET', path: '/v2/manage/namespaces', status: 200 }),
    );
  // Each SWR was written with its own account's login, and only with its own namespace.
  expect(dr.requests.some((r) => r.method === 'PUT' && r.path.includes('/mirror-dr/hooked/app/manifests/'))).toBe(true);
  expect(main.requests.some((r) => r.path.includes('mirror-dr'))).toBe(false);

  // success.log names each destination's registry on its line.
  const success = await readFile(join(sut.logDir, 'proj-success.log'), 'utf8');
  expect(success).toContain(`-> ${main.host}/mirror/hooked/app:v1 ${image.digest}`);
  expect(success).toContain(`-> ${dr.host}/mirror-dr/hooked/app:v1 ${image.digest}`);
  // The status page's jobs and the metrics name the destination too.
  const status = (await (await fetch(`${sut.url}/api/v1/status`)).json()) as { jobs: Job[] };
  expect(status.jobs.map((j) => j.spec.destination)).toEqual(expect.arrayContaining([main.host, dr.host]));
  // Neither the named destination's secret key nor the login derived from it is in any log.
  for (const file of await readdir(sut.logDir)) {
    const text = await readFile(join(sut.logDir, file), 'utf8');
    for (const secret of [DR.sk, swrLoginKey(DR.ak, DR.sk), MAIN.sk]) expect(text).not.toContain(secret);
  }
  const metrics = await (await fetch(`${sut.url}/metrics`)).text();
  for (const host of [main.host, dr.host])
    expect(metrics).toMatch(
      new RegExp(`swr_harbor_sync_destination_jobs_total\\{destination="${host}",outcome="succeeded"\\} 1\\b`),
    );
}, 60_000);

test('a push without a tag waits once, then becomes one job per destination', async () => {
  // Harbor sends a push by digest for the tag it has: the service asks Harbor for the tag after the burst.
  const image = await pushImage(harbor.access, 'proj/untagged/app', 'v7', {
    format: 'docker',
    layers: [{ seed: 'dest-untagged', size: 20_000 }],
  });
  const answer = await webhook('untagged/app', undefined, image.digest);
  expect(answer).toMatchObject({ accepted: 1, pending: 1 });
  const jobs = ofRepository('untagged/app')(
    await waitForJobs(sut.url, 'proj', (all) => {
      const mine = ofRepository('untagged/app')(all);
      return mine.length === 2 && mine.every(final);
    }),
  );
  expect(jobs.map((j) => [j.spec.destination, j.spec.namespace, j.state]).sort()).toEqual(
    [
      [main.host, 'mirror', 'succeeded'],
      [dr.host, 'mirror-dr', 'succeeded'],
    ].sort(),
  );
  await expectAt(main, 'mirror', 'untagged/app', 'v7', image.digest);
  await expectAt(dr, 'mirror-dr', 'untagged/app', 'v7', image.digest);
}, 60_000);

test('a project sync over the API makes one job per destination, each naming its own', async () => {
  const image = await pushImage(harbor.access, 'proj/synced/app', 'v2', {
    format: 'docker',
    layers: [{ seed: 'dest-synced', size: 30_000 }],
  });
  const res = await fetch(`${sut.url}/api/v1/sync`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ project: 'proj', repositories: ['synced/app'] }),
  });
  expect(res.status).toBe(202);
  const answer = (await res.json()) as { jobId: string; jobs: Array<{ jobId: string; destination: string }> };
  expect(answer.jobs.map((j) => j.destination)).toEqual([main.host, dr.host]);
  expect(answer.jobId).toBe(answer.jobs[0].jobId);
  const ids = answer.jobs.map((j) => j.jobId);
  const jobs = (
    await waitForJobs(sut.url, 'proj', (all) => ids.every((id) => all.some((j) => j.id === id && final(j))))
  )
    .filter((j) => ids.includes(j.id))
    .sort((a, b) => ids.indexOf(a.id) - ids.indexOf(b.id));
  expect(jobs.map((j) => [j.spec.namespace, j.state])).toEqual([
    ['mirror', 'succeeded'],
    ['mirror-dr', 'succeeded'],
  ]);
  await expectAt(main, 'mirror', 'synced/app', 'v2', image.digest);
  await expectAt(dr, 'mirror-dr', 'synced/app', 'v2', image.digest);
}, 60_000);

test('a project sync naming its namespace goes to the default destination only, and says so', async () => {
  const res = await fetch(`${sut.url}/api/v1/sync`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ project: 'proj', namespace: 'mirror', repositories: ['synced/app'], dryRun: true }),
  });
  expect(res.status).toBe(202);
  const answer = (await res.json()) as { jobs: Array<{ jobId: string; destination: string }> };
  expect(answer.jobs.map((j) => j.destination)).toEqual([main.host]);
}, 60_000);

test('the sweep compares each destination on its own and queues what each lacks', async () => {
  // Pushed without a webhook: each destination's sweep finds it missing there.
  const image = await pushImage(harbor.access, 'proj/swept/app', 'v1', {
    format: 'docker',
    layers: [{ seed: 'dest-swept', size: 20_000 }],
  });
  const summary = await sut.running.reconcile();
  expect(summary).toMatchObject({ queued: 2, errors: 0 });
  const jobs = ofRepository('swept/app')(
    await waitForJobs(sut.url, 'proj', (all) => {
      const mine = ofRepository('swept/app')(all);
      return mine.length === 2 && mine.every(final);
    }),
  );
  expect(jobs.map((j) => [j.spec.destination, j.state]).sort()).toEqual(
    [
      [main.host, 'succeeded'],
      [dr.host, 'succeeded'],
    ].sort(),
  );
  await expectAt(main, 'mirror', 'swept/app', 'v1', image.digest);
  await expectAt(dr, 'mirror-dr', 'swept/app', 'v1', image.digest);
}, 60_000);

test('with one destination stopped, the other completes; the stopped one retries and fails on its own', async () => {
  await dr.stop();
  drStopped = true;
  const image = await pushImage(harbor.access, 'proj/outage/app', 'v1', {
    format: 'docker',
    layers: [{ seed: 'dest-outage', size: 20_000 }],
  });
  await webhook('outage/app', 'v1', image.digest);
  // The default destination's job does not wait for the other's.
  const first = ofRepository('outage/app')(
    await waitForJobs(sut.url, 'proj', (all) =>
      ofRepository('outage/app')(all).some((j) => j.spec.destination === main.host && final(j)),
    ),
  );
  const onMain = first.find((j) => j.spec.destination === main.host)!;
  expect(onMain.state).toBe('succeeded');
  await expectAt(main, 'mirror', 'outage/app', 'v1', image.digest);

  const jobs = ofRepository('outage/app')(
    await waitForJobs(
      sut.url,
      'proj',
      (all) => ofRepository('outage/app')(all).some((j) => j.spec.destination === dr.host && final(j)),
      90_000,
    ),
  );
  const onDr = jobs.find((j) => j.spec.destination === dr.host)!;
  expect(onDr.state).toBe('failed');
  expect(onDr.attempts).toBe(2); // JobRetries=1: tried again on its own, then given up
  expect(onDr.error).toContain(dr.host.split(':')[1]);
  // The default destination's job ran once and was not held back by the retries.
  expect(jobs.find((j) => j.spec.destination === main.host)).toMatchObject({ state: 'succeeded', attempts: 1 });
  const metrics = await (await fetch(`${sut.url}/metrics`)).text();
  expect(metrics).toMatch(
    new RegExp(`swr_harbor_sync_destination_jobs_total\\{destination="${dr.host}",outcome="failed"\\} 2\\b`),
  );
}, 120_000);
