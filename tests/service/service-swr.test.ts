// The service against SWR as it behaves: the SWR stand-in (token realm, dockyard, organizations, OCI refused,
// 503 past its request rate) over a real registry, with Huawei's management and IAM APIs answered by nock.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import nock from 'nock';
import { startHarbor, type HarborStandIn } from '../harness/harbor/index.js';
import {
  assertImageComplete,
  DOCKER_LIST,
  DOCKER_MANIFEST,
  getManifest,
  listTags,
  OCI_INDEX,
  pushArtifact,
  pushImage,
  pushIndex,
} from '../harness/images.js';
import { call } from '../harness/registry-http.js';
import { startServiceUnderTest, waitForJobs, type ServiceUnderTest } from '../harness/service.js';
import { startSwr, type SwrStandIn } from '../harness/swr/index.js';

const API = 'https://swr-api.cn-north-4.myhuaweicloud.com';
const IAM = 'https://iam.cn-north-4.myhuaweicloud.com';
const AK = 'SWRTESTACCESSKEY0001';
const SK = 'swr-test-secret-key-0123456789abcdef';

let harbor: HarborStandIn;
let swr: SwrStandIn;
let sut: ServiceUnderTest | undefined;

beforeAll(async () => {
  [harbor, swr] = await Promise.all([
    startHarbor({
      projects: [
        { name: 'proj', public: false },
        { name: 'clash', public: true },
      ],
    }),
    startSwr({ ak: AK, sk: SK, namespaces: ['mirror'], foreignNamespaces: ['someone-else'], requestsPerSecond: 0 }),
  ]);
});

afterEach(async () => {
  await sut?.stop();
  sut = undefined;
  nock.cleanAll();
  swr.requestsPerSecond = 0;
});

afterAll(async () => {
  await Promise.all([harbor?.stop(), swr?.stop()]);
});

/** The management API: the tenant's namespaces are the stand-in's, and creating one makes it real there. */
function managementApi(times = 20) {
  return nock(API)
    .persist()
    .get('/v2/manage/namespaces')
    .times(times)
    .reply(() => [
      200,
      { namespaces: [...swr.namespaces].map((name, id) => ({ id, name, creator_name: 'tester', auth: 7 })) },
    ])
    .post('/v2/manage/namespaces')
    .reply((_uri, body) => {
      const name = (body as { namespace: string }).namespace;
      if (swr.foreignNamespaces.has(name))
        return [409, [{ errorCode: 'SVCSTG.SWR.4090060', errorMessage: 'Namespace already exists', detail: '' }]];
      swr.namespaces.add(name);
      return [201, ''];
    });
}

async function start(extra: Record<string, string> = {}): Promise<ServiceUnderTest> {
  sut = await startServiceUnderTest(harbor.host, swr.host, {
    HWAK: AK,
    HWSK: SK,
    RegionName: 'cn-north-4',
    SWRManageNamespaces: 'true',
    NamespaceMap: 'proj:mirror;clash:someone-else',
    ...extra,
  });
  return sut;
}

async function push(project: string, body: { body: string; contentType: string }) {
  const res = await fetch(`${sut!.url}/service/notifications`, {
    method: 'POST',
    headers: { 'content-type': body.contentType },
    body: body.body,
  });
  expect(res.status).toBe(200);
  void project;
}

const settledFor = (repo: string) => (jobs: Array<{ spec: { kind: string }; state: string }>) =>
  jobs.some(
    (j) => (j.spec as { repository?: string }).repository === repo && (j.state === 'succeeded' || j.state === 'failed'),
  );

test('an OCI multi-arch image lands converted to Docker formats, every platform, both digests logged', async () => {
  managementApi();
  await start();
  const index = await pushIndex(harbor.access, 'proj/oci-multi', 'v1', {
    format: 'oci',
    images: [
      { platform: { os: 'linux', architecture: 'amd64' }, layers: [{ seed: 'swr-oci-amd', size: 40_000 }] },
      { platform: { os: 'linux', architecture: 'arm64' }, layers: [{ seed: 'swr-oci-arm', size: 40_000 }] },
    ],
  });
  await push(
    'proj',
    harbor.webhookPayload('default', { project: 'proj', repository: 'oci-multi', digest: index.digest, tag: 'v1' }),
  );
  const jobs = await waitForJobs(sut!.url, 'proj', settledFor('oci-multi'));
  const job = jobs.find((j) => (j.spec as { repository?: string }).repository === 'oci-multi')!;
  expect(job.state).toBe('succeeded');
  const result = job.results[0];
  expect(result).toMatchObject({
    status: 'copied',
    converted: true,
    sourceDigest: index.digest,
    mediaType: DOCKER_LIST,
  });
  const list = (await getManifest(swr.registry, 'mirror/oci-multi', 'v1'))!;
  expect(list.digest).toBe(result.destinationDigest);
  expect(list.json.manifests!.map((m) => [m.mediaType, m.platform!.architecture])).toEqual([
    [DOCKER_MANIFEST, 'amd64'],
    [DOCKER_MANIFEST, 'arm64'],
  ]);
  await assertImageComplete(swr.registry, 'mirror/oci-multi', 'v1', { verifyContent: true });
  // SWR refused the OCI child manifests (pushed side by side) once each; everything after went in Docker format.
  const manifestPuts = swr.requests.filter((r) => r.method === 'PUT' && r.path.includes('/manifests/'));
  const refused = manifestPuts.filter((r) => r.status === 400);
  expect(refused.length).toBeGreaterThanOrEqual(1);
  expect(refused.length).toBeLessThanOrEqual(2);
  expect(manifestPuts.slice(manifestPuts.findIndex((r) => r.status === 201)).every((r) => r.status === 201)).toBe(true);
  const success = await readFile(join(sut!.logDir, 'proj-success.log'), 'utf8');
  expect(success).toContain(
    `mirror/oci-multi:v1 ${result.destinationDigest} (converted to Docker format; source digest ${index.digest})`,
  );
});

test('a Docker image lands with its digest unchanged, and a new namespace is created first', async () => {
  managementApi();
  await start({ NamespaceMap: 'proj:brand-new' });
  expect(swr.namespaces.has('brand-new')).toBe(false);
  const image = await pushImage(harbor.access, 'proj/docker-app', 'v2', {
    format: 'docker',
    layers: [{ seed: 'swr-docker', size: 40_000 }],
  });
  await push(
    'proj',
    harbor.webhookPayload('cloudevents', {
      project: 'proj',
      repository: 'docker-app',
      digest: image.digest,
      tag: 'v2',
    }),
  );
  const jobs = await waitForJobs(sut!.url, 'proj', settledFor('docker-app'));
  expect(jobs.find((j) => (j.spec as { repository?: string }).repository === 'docker-app')!.state).toBe('succeeded');
  expect(swr.namespaces.has('brand-new')).toBe(true);
  expect((await getManifest(swr.registry, 'brand-new/docker-app', 'v2'))!.digest).toBe(image.digest);
  await assertImageComplete(swr.registry, 'brand-new/docker-app', 'v2');
});

test('Password method: IAM token, temporary login from the secret API, then the push', async () => {
  const temporary = { username: 'cn-north-4@TEMPORARYAK0001', password: 'temporary-login-password-value' };
  swr.addLogin(temporary.username, temporary.password);
  managementApi();
  const iam = nock(IAM)
    .post('/v3/auth/tokens')
    .reply(
      201,
      { token: { expires_at: new Date(Date.now() + 86_400_000).toISOString() } },
      { 'X-Subject-Token': 'iam-token-for-tests' },
    );
  const secret = nock(API, { reqheaders: { 'x-auth-token': 'iam-token-for-tests' } })
    .post('/v2/manage/utils/secret')
    .query({ projectname: 'cn-north-4' })
    .reply(
      200,
      {
        auths: { [swr.host]: { auth: Buffer.from(`${temporary.username}:${temporary.password}`).toString('base64') } },
      },
      { 'X-Swr-Expireat': new Date(Date.now() + 6 * 3600_000).toISOString() },
    );
  await start({
    HWAuthMethod: 'Password',
    HWAK: '',
    HWSK: '',
    HWDomain: 'acme',
    HWUser: 'deployer',
    HWPassword: 'iam-user-password-value',
  });
  const image = await pushImage(harbor.access, 'proj/password-app', 'v1', {
    format: 'docker',
    layers: [{ seed: 'swr-password', size: 20_000 }],
  });
  await push(
    'proj',
    harbor.webhookPayload('default', { project: 'proj', repository: 'password-app', digest: image.digest, tag: 'v1' }),
  );
  const jobs = await waitForJobs(sut!.url, 'proj', settledFor('password-app'));
  expect(jobs.find((j) => (j.spec as { repository?: string }).repository === 'password-app')!.state).toBe('succeeded');
  expect(iam.isDone() && secret.isDone()).toBe(true);
  expect((await getManifest(swr.registry, 'mirror/password-app', 'v1'))!.digest).toBe(image.digest);
  const logs = await readFile(join(sut!.logDir, 'running.log'), 'utf8');
  expect(logs).not.toContain('iam-user-password-value');
  expect(logs).not.toContain('temporary-login-password-value');
});

test('a namespace owned by another tenant fails with its clear error and pushes nothing', async () => {
  managementApi();
  await start();
  const image = await pushImage(harbor.access, 'clash/app', 'v1', {
    format: 'docker',
    layers: [{ seed: 'swr-clash', size: 20_000 }],
  });
  const before = swr.requests.length;
  await push(
    'clash',
    harbor.webhookPayload('default', { project: 'clash', repository: 'app', digest: image.digest, tag: 'v1' }),
  );
  const jobs = await waitForJobs(sut!.url, 'clash', settledFor('app'));
  const job = jobs[0];
  expect(job.state).toBe('failed');
  expect(job.error).toMatch(
    /"someone-else" belongs to another Huawei Cloud account .*nothing was pushed.*NamespaceMap/,
  );
  expect(swr.requests.slice(before).filter((r) => r.method !== 'GET' && r.method !== 'HEAD')).toEqual([]);
  expect(await listTags(swr.registry, 'someone-else/app')).toEqual([]);
  // The job failed as a whole: the project's running log says so, where the old tool told users to look.
  const projectLog = await readFile(join(sut!.logDir, 'clash-running.log'), 'utf8');
  expect(projectLog).toMatch(
    new RegExp(
      `ERROR \\[job [^\\]]+\\] sync of clash/app@${image.digest} into ${swr.host}/someone-else failed: SWR namespace "someone-else" belongs to another Huawei Cloud account`,
    ),
  );
});

test('a repository name SWR refuses fails before any transfer, says which rule broke, and is not retried', async () => {
  managementApi();
  await start();
  const long = `deep/${'x'.repeat(130)}`;
  const image = await pushImage(harbor.access, `proj/${long}`, 'v1', {
    format: 'docker',
    layers: [{ seed: 'swr-long', size: 1000 }],
  });
  const before = swr.requests.length;
  await push(
    'proj',
    harbor.webhookPayload('default', { project: 'proj', repository: long, digest: image.digest, tag: 'v1' }),
  );
  const jobs = await waitForJobs(sut!.url, 'proj', settledFor(long));
  const job = jobs.find((j) => (j.spec as { repository?: string }).repository === long)!;
  expect(job.state).toBe('failed');
  expect(job.attempts).toBe(1);
  expect(job.results[0]).toMatchObject({ errorCode: 'NAME_INVALID' });
  expect(job.results[0].reason).toMatch(
    /is 142 characters long; SWR takes 1 to 128: rename the repository in Harbor, or map the project/,
  );
  expect(swr.requests.length).toBe(before);
});

test('a signature SWR refuses (an OCI artifact) is skipped with a logged reason; the image itself lands', async () => {
  managementApi();
  await start();
  const image = await pushImage(harbor.access, 'proj/signed', 'v1', {
    format: 'docker',
    layers: [{ seed: 'swr-signed', size: 5000 }],
  });
  const signature = await pushArtifact(harbor.access, 'proj/signed', {
    subject: { mediaType: image.mediaType, digest: image.digest, size: image.size },
    artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json',
    payload: Buffer.from('{"critical":{}}'),
  });
  const fallback = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [signature] }));
  const put = await call(harbor.access, {
    method: 'PUT',
    path: `/v2/proj/signed/manifests/${image.digest.replace(':', '-')}`,
    repo: 'proj/signed',
    headers: { 'content-type': OCI_INDEX },
    body: () => fallback,
  });
  expect(put.status).toBe(201);
  await push(
    'proj',
    harbor.webhookPayload('default', { project: 'proj', repository: 'signed', digest: image.digest, tag: 'v1' }),
  );
  const jobs = await waitForJobs(sut!.url, 'proj', settledFor('signed'));
  const job = jobs.find((j) => (j.spec as { repository?: string }).repository === 'signed')!;
  expect(job.state).toBe('succeeded');
  expect(job.results[0].notes?.[0]).toMatch(/signatures and other referrers were not copied: .*MANIFEST_INVALID/);
  expect((await getManifest(swr.registry, 'mirror/signed', 'v1'))!.digest).toBe(image.digest);
  expect(await readFile(join(sut!.logDir, 'proj-running.log'), 'utf8')).toMatch(
    /signed:v1: signatures and other referrers were not copied/,
  );
});

describe('limits', () => {
  test("the old manual call's check of SWR shares its job's request budget: no 503 at SWR's own rate", async () => {
    managementApi(100);
    harbor.addProject('budget', true);
    // Our pacing at SWR's limit: the check's login (/v2/, token, /v2/) used to go unpaced, right before the
    // job's first full second of requests.
    await start({ SWRRequestsPerSecond: '3', NamespaceMap: 'budget:mirror' });
    for (let i = 0; i < 2; i++)
      await pushImage(harbor.access, `budget/app-${i}`, 'v1', {
        format: 'docker',
        layers: [{ seed: `budget-${i}`, size: 4_000 }],
      });
    swr.requestsPerSecond = 3;
    const [rejected, seen] = [swr.rejected503, swr.requests.length];
    const res = await fetch(`${sut!.url}/service/synchronization/namespace`, {
      method: 'POST',
      headers: { Projectname: 'budget', Namespace: 'mirror' },
    });
    expect(res.status).toBe(202);
    const { jobId } = (await res.json()) as { jobId: string };
    const jobs = await waitForJobs(
      sut!.url,
      'budget',
      (all) => all.some((j) => j.id === jobId && (j.state === 'succeeded' || j.state === 'failed')),
      60_000,
    );
    expect(jobs.find((j) => j.id === jobId)?.state).toBe('succeeded');
    const sent = swr.requests.slice(seen);
    // The check's own login is among them, before the job's first push.
    expect(sent.slice(0, 3).map((r) => `${r.method} ${r.path.split('?')[0]}`)).toEqual([
      'GET /v2/',
      'GET /swr/auth/v2/registry/auth/',
      'GET /v2/',
    ]);
    expect({ rejected: swr.rejected503 - rejected, sent: sent.length > 10 }).toEqual({ rejected: 0, sent: true });
  }, 90_000);

  test("a 503 storm past SWR's request rate finishes with every digest verified and the retries counted", async () => {
    managementApi(100);
    // Our pacing off, SWR's limit low: the storm comes from SWR.
    await start({ SWRRequestsPerSecond: '0', MaxImagesInFlight: '5', MaxBlobTransfers: '8' });
    const images = [];
    for (let i = 0; i < 5; i++)
      images.push(
        await pushImage(harbor.access, `proj/storm-${i}`, 'v1', {
          format: 'docker',
          layers: [
            { seed: `storm-${i}-a`, size: 10_000 },
            { seed: `storm-${i}-b`, size: 10_000 },
          ],
        }),
      );
    swr.requestsPerSecond = 10;
    const res = await fetch(`${sut!.url}/api/v1/sync`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ project: 'proj', repositories: images.map((_, i) => `storm-${i}`) }),
    });
    expect(res.status).toBe(202);
    const { jobId } = (await res.json()) as { jobId: string };
    const jobs = await waitForJobs(
      sut!.url,
      'proj',
      (all) => all.some((j) => j.id === jobId && (j.state === 'succeeded' || j.state === 'failed')),
      90_000,
    );
    const job = jobs.find((j) => j.id === jobId)!;
    expect(job.state).toBe('succeeded');
    expect(swr.rejected503).toBeGreaterThan(0);
    expect(job.results.reduce((n, r) => n + r.retries, 0)).toBeGreaterThan(0);
    swr.requestsPerSecond = 0;
    for (let i = 0; i < images.length; i++) {
      expect((await getManifest(swr.registry, `mirror/storm-${i}`, 'v1'))!.digest).toBe(images[i].digest);
      await assertImageComplete(swr.registry, `mirror/storm-${i}`, 'v1', { verifyContent: true });
    }
  }, 120_000);
});
