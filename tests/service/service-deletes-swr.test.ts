// Deletions from Harbor 1.10 into SWR: the stand-in plays Harbor 1.10, whose tag deletion removes the manifest
// (so every tag on its digest) and fires deleteImage naming the deleted tag; the SWR stand-in answers the
// management API's DeleteRepoTag. Each tag the service wrote goes through its own DELETE, so a tag on the same
// digest that the service did not write stays.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { startHarbor, type HarborStandIn } from '../harness/harbor/index.js';
import { getManifest, listTags, pushImage } from '../harness/images.js';
import { call } from '../harness/registry-http.js';
import { imageJobsSettled, startServiceUnderTest, waitForJobs, type ServiceUnderTest } from '../harness/service.js';
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
    startHarbor({ version: '1.10', projects: [{ name: 'proj', public: false }] }),
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
  const [project] = (await (await fetch(`${harbor.url}/api/projects?name=proj`, { headers: ADMIN })).json()) as Array<{
    project_id: number;
  }>;
  const created = await fetch(`${harbor.url}/api/projects/${project.project_id}/webhook/policies`, {
    method: 'POST',
    headers: { ...ADMIN, 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'to-sync',
      enabled: true,
      event_types: ['pushImage', 'deleteImage'],
      targets: [{ type: 'http', address: `${sut.url}/service/notifications`, skip_cert_verify: false }],
    }),
  });
  expect(created.status).toBe(201);
});

afterAll(async () => {
  await sut?.stop();
  await Promise.all([harbor?.stop(), swr?.stop()]);
});

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
