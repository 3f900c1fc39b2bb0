// Deletions from Harbor 1.10 (into SWR, and one race into a plain registry): the stand-in plays Harbor 1.10, whose tag deletion removes the manifest
// (so every tag on its digest) and fires deleteImage naming the deleted tag; the SWR stand-in answers the
// management API's DeleteRepoTag. Each tag the service wrote goes through its own DELETE, so a tag on the same
// digest that the service did not write stays.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { startHarbor, type HarborStandIn } from '../harness/harbor/index.js';
import { getManifest, listTags, pushImage } from '../harness/images.js';
import { call } from '../harness/registry-http.js';
import {
  endedImageJob,
  imageJobsSettled,
  startServiceUnderTest,
  waitForJobs,
  type ServiceUnderTest,
} from '../harness/service.js';
import { startFaultProxy } from '../harness/fault-proxy.js';
import { startRegistry } from '../harness/registry.js';
import { startSwr, type SwrStandIn } from '../harness/swr/index.js';
import { until } from '../harness/until.js';

const AK = 'SWRDELETESACCESSKEY1';
const SK = 'swr-deletes-secret-key-0123456789ab';
const ADMIN = { authorization: `Basic ${Buffer.from('admin:Harbor12345').toString('base64')}` };

let harbor: HarborStandIn;
let swr: SwrStandIn;
let sut: ServiceUnderTest;

beforeAll(async () => {
  [harbor, swr] = await Promise.all([
    startHarbor({
      version: '1.10',
      projects: ['proj', 'race'].map((name) => ({ name, public: false })),
    }),
    startSwr({ ak: AK, sk: SK, namespaces: ['mirror'], requestsPerSecond: 0 }),
  ]);
  sut = await startServiceUnderTest(harbor.host, swr.host, {
    HWAK: AK,
    HWSK: SK,
    SWRApiEndpoint: swr.url,
    SWRManageNamespaces: 'true',
    NamespaceMap: 'proj:mirror',
    ReconcileInterval: '0',
    SyncDeletes: 'true',
  });
  await hook('proj', sut.url);
});

afterAll(async () => {
  await sut?.stop();
  await Promise.all([harbor?.stop(), swr?.stop()]);
});

/** A Harbor 1.10 webhook policy for pushes and deletions, as an admin makes it (by project id on 1.x). */
async function hook(name: string, service: string): Promise<void> {
  const [project] = (await (
    await fetch(`${harbor.url}/api/projects?name=${name}`, { headers: ADMIN })
  ).json()) as Array<{
    project_id: number;
  }>;
  const created = await fetch(`${harbor.url}/api/projects/${project.project_id}/webhook/policies`, {
    method: 'POST',
    headers: { ...ADMIN, 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'to-sync',
      enabled: true,
      event_types: ['pushImage', 'deleteImage'],
      targets: [{ type: 'http', address: `${service}/service/notifications`, skip_cert_verify: false }],
    }),
  });
  expect(created.status).toBe(201);
}

test('Harbor 1.10 deleteImage: each tag the service wrote is deleted through the management API, a tag it did not write stays', async () => {
  let digest = '';
  for (const tag of ['v1', 'v2']) {
    digest = (
      await pushImage(harbor.access, 'proj/team/app', tag, {
        format: 'docker',
        layers: [{ seed: 'deletes-swr', size: 4_000 }],
      })
    ).digest;
  }
  await until('mirror/team/app:v1,v2 in SWR', async () => {
    const tags = await listTags(swr.registry, 'mirror/team/app');
    return tags.includes('v1') && tags.includes('v2') ? true : undefined;
  });
  await imageJobsSettled(sut.url, 'proj', 'team/app', digest);
  // Someone tags the same image in SWR by hand: not the service's to delete.
  const manifest = (await getManifest(swr.registry, 'mirror/team/app', 'v1'))!;
  const put = await call(swr.registry, {
    method: 'PUT',
    path: '/v2/mirror/team/app/manifests/theirs',
    headers: { 'content-type': manifest.mediaType },
    body: () => manifest.body,
  });
  expect(put.status).toBe(201);

  const swrBefore = swr.requests.length;
  const deleted = await fetch(`${harbor.url}/api/repositories/proj/team/app/tags/v1`, {
    method: 'DELETE',
    headers: ADMIN,
  });
  expect(deleted.status).toBe(200);
  const delivery = await until('the deleteImage delivery', async () =>
    harbor.webhookDeliveries.find((d) => d.eventType === 'deleteImage' && d.status !== 0),
  );
  expect(delivery).toMatchObject({ repository: 'proj/team/app', tag: 'v1', digest, status: 200 });

  const jobs = await waitForJobs(sut.url, 'proj', (all) =>
    all.some((j) => j.spec.kind === 'delete' && j.state !== 'queued' && j.state !== 'running'),
  );
  const job = jobs.find((j) => j.spec.kind === 'delete')!;
  expect(job).toMatchObject({ state: 'succeeded', spec: { digest, tags: ['v1'] } });
  expect(job.results.map((r) => [r.destination, r.status])).toEqual([
    [`${swr.host}/mirror/team/app:v1`, 'deleted'],
    [`${swr.host}/mirror/team/app:v2`, 'deleted'],
  ]);
  // All it cost SWR: one tag listing (which says the tags still point at what the service wrote), one DELETE a tag.
  expect(swr.requests.slice(swrBefore).map((r) => [r.method, r.path, r.status])).toEqual([
    ['GET', '/v2/manage/namespaces/mirror/repos/team%24app/tags?limit=100&offset=0', 200],
    ['DELETE', '/v2/manage/namespaces/mirror/repos/team%24app/tags/v1', 204],
    ['DELETE', '/v2/manage/namespaces/mirror/repos/team%24app/tags/v2', 204],
  ]);
  expect(await listTags(swr.registry, 'mirror/team/app')).toEqual(['theirs']);
  const success = await readFile(join(sut.logDir, 'proj-success.log'), 'utf8');
  expect(success).toContain(`deleted ${harbor.host}/proj/team/app:v2 -> ${swr.host}/mirror/team/app:v2 ${digest}`);
});

test('Harbor 1.10: a tag deleted while its image is copied goes at the destination too, once the job has written it', async () => {
  // 1.10's tag delete removes the manifest in its registry, which the job asks after recording; the deleteImage
  // event came while the manifest PUT was held, found nothing recorded, and was ignored.
  const dst = await startRegistry();
  const slow = await startFaultProxy(dst.url);
  const other = await startServiceUnderTest(harbor.host, slow.host, {
    ReconcileInterval: '0',
    SyncDeletes: 'true',
    NamespaceMap: 'race:race-ns',
  });
  try {
    await hook('race', other.url);
    slow.inject({ method: 'PUT', path: /^\/v2\/race-ns\/app\/manifests\/v1$/, fault: { delayMs: 2_000 } });
    const image = await pushImage(harbor.access, 'race/app', 'v1', {
      format: 'docker',
      layers: [{ seed: 'deletes-swr-race', size: 4_000 }],
    });
    await until('the manifest PUT held at the destination', async () =>
      slow.requests.some((r) => r.method === 'PUT' && r.faulted === 'delay') ? true : undefined,
    );
    const deleted = await fetch(`${harbor.url}/api/repositories/race/app/tags/v1`, {
      method: 'DELETE',
      headers: ADMIN,
    });
    expect(deleted.status).toBe(200);
    const job = await endedImageJob(other.url, 'race');
    expect(job).toMatchObject({ state: 'succeeded' });
    expect(job.results.map((r) => r.status)).toEqual(['copied', 'deleted']);
    expect((await listTags(dst, 'race-ns/app')) ?? []).toEqual([]);
    const running = await readFile(join(other.logDir, 'race-running.log'), 'utf8');
    expect(running).toContain(`race/app@${image.digest} was deleted in Harbor while it was being synced`);
  } finally {
    await other.stop();
    await slow.stop();
    await dst.stop();
  }
}, 60_000);
