// The old call's RegionName header moves the whole destination to that region: the registry login, and also
// the SWR management API (namespaces, temporary logins) and IAM, answered by nock on the regional hosts; the
// configured region's hosts are traps that must stay untouched. Explicit SWRApiEndpoint/IAMEndpoint still win.
import { afterAll, afterEach, beforeAll, expect, test } from '@jest/globals';
import nock from 'nock';
import type { Job } from '../../src/jobs/types.js';
import { startHarbor, type HarborStandIn } from '../harness/harbor/index.js';
import { getManifest, pushImage, type PushedImage } from '../harness/images.js';
import { startServiceUnderTest, type ServiceUnderTest } from '../harness/service.js';
import { startSwr, type SwrStandIn } from '../harness/swr/index.js';
import { until } from '../harness/until.js';

const AK = 'REGIONTESTACCESSKEY01';
const SK = 'region-test-secret-key-0123456789';
const CONFIGURED = 'cn-north-4';
const CALLED = 'ap-southeast-1';
const api = (region: string) => `https://swr-api.${region}.myhuaweicloud.com`;
const iam = (region: string) => `https://iam.${region}.myhuaweicloud.com`;

let harbor: HarborStandIn;
let swr: SwrStandIn;
let image: PushedImage;
let sut: ServiceUnderTest | undefined;

beforeAll(async () => {
  [harbor, swr] = await Promise.all([
    startHarbor({ projects: [{ name: 'proj', public: false }] }),
    // SWR of the called region: its login is `ap-southeast-1@AK`.
    startSwr({ ak: AK, sk: SK, region: CALLED, namespaces: ['regional-ns'], requestsPerSecond: 0 }),
  ]);
  image = await pushImage(harbor.access, 'proj/app', 'v1', {
    format: 'docker',
    layers: [{ seed: 'front-door-region', size: 5_000 }],
  });
}, 60_000);

afterEach(async () => {
  await sut?.stop();
  sut = undefined;
  nock.cleanAll();
});

afterAll(async () => {
  await Promise.all([harbor?.stop(), swr?.stop()]);
});

/** The namespaces API of `base`, answering from the stand-in's namespaces; counts what it was asked. */
function namespacesApi(base: string, asked: string[], reqheaders?: Record<string, string>) {
  return nock(base, { reqheaders })
    .persist()
    .get('/v2/manage/namespaces')
    .reply(() => {
      asked.push(`GET ${base}`);
      return [
        200,
        { namespaces: [...swr.namespaces].map((name, id) => ({ id, name, creator_name: 'tester', auth: 7 })) },
      ];
    })
    .post('/v2/manage/namespaces')
    .reply(() => {
      asked.push(`POST ${base}`);
      return [201, ''];
    });
}

/** The configured region's hosts: any request there is the bug. */
function traps(asked: string[]) {
  for (const base of [api(CONFIGURED), iam(CONFIGURED)]) {
    for (const method of ['GET', 'POST', 'PUT', 'DELETE']) {
      nock(base)
        .persist()
        .intercept(() => true, method)
        .reply(() => {
          asked.push(`${method} ${base} (configured region)`);
          return [500, { error: "asked in the configured region instead of the call's" }];
        });
    }
  }
}

async function manualCall(extra: Record<string, string> = {}): Promise<Job> {
  const res = await fetch(`${sut!.url}/service/synchronization/namespace`, {
    method: 'POST',
    headers: { Projectname: 'proj', Namespace: 'regional-ns', RegionName: CALLED, ...extra },
  });
  const answer = (await res.json()) as { jobId: string; error?: unknown };
  expect({ status: res.status, error: answer.error }).toEqual({ status: 202, error: undefined });
  return until(`job ${answer.jobId} to end`, async () => {
    const job = (await (await fetch(`${sut!.url}/api/v1/jobs/${answer.jobId}`)).json()) as Job;
    return job.state === 'queued' || job.state === 'running' ? undefined : job;
  });
}

const base = {
  HWAK: AK,
  HWSK: SK,
  RegionName: CONFIGURED,
  SWRManageNamespaces: 'true',
  NamespaceMap: 'proj:regional-ns',
};

test("AK/SK: RegionName sends namespace checks to that region's SWR API; an explicit SWRApiEndpoint still wins", async () => {
  const asked: string[] = [];
  traps(asked);
  namespacesApi(api(CALLED), asked);
  sut = await startServiceUnderTest(harbor.host, swr.host, base);
  const job = await manualCall();
  expect({ failed: job.state === 'failed', error: job.error }).toEqual({ failed: false, error: undefined });
  expect((await getManifest(swr.registry, 'regional-ns/app', 'v1'))?.digest).toBe(image.digest);
  expect(asked.length).toBeGreaterThan(0);
  expect(asked.filter((a) => !a.startsWith(`GET ${api(CALLED)}`))).toEqual([]);

  // SWRApiEndpoint set to another host: the call's region does not move it.
  await sut.stop();
  const custom = 'https://swr-api.behind-a-proxy.example.com';
  asked.length = 0;
  namespacesApi(custom, asked);
  sut = await startServiceUnderTest(harbor.host, swr.host, { ...base, SWRApiEndpoint: custom });
  expect((await manualCall()).error).toBeUndefined();
  expect(asked.length).toBeGreaterThan(0);
  expect(asked.filter((a) => !a.startsWith(`GET ${custom}`))).toEqual([]);
});

test("Password: the IAM token is asked of the call's region, scoped to it, and the temporary login too", async () => {
  const asked: string[] = [];
  traps(asked);
  const temporary = { username: `${CALLED}@TEMPORARYREGIONAK01`, password: 'temporary-region-login-value' };
  swr.addLogin(temporary.username, temporary.password);
  const token = nock(iam(CALLED))
    .post(
      '/v3/auth/tokens',
      (body: { auth: { scope: { project: { name: string } } } }) => body.auth.scope.project.name === CALLED,
    )
    .reply(
      201,
      { token: { expires_at: new Date(Date.now() + 86_400_000).toISOString() } },
      { 'X-Subject-Token': 'regional-iam-token' },
    );
  namespacesApi(api(CALLED), asked, { 'x-auth-token': 'regional-iam-token' });
  nock(api(CALLED), { reqheaders: { 'x-auth-token': 'regional-iam-token' } })
    .persist()
    .post('/v2/manage/utils/secret')
    .query({ projectname: CALLED })
    .reply(
      200,
      {
        auths: { [swr.host]: { auth: Buffer.from(`${temporary.username}:${temporary.password}`).toString('base64') } },
      },
      { 'X-Swr-Expireat': new Date(Date.now() + 6 * 3600_000).toISOString() },
    );
  sut = await startServiceUnderTest(harbor.host, swr.host, {
    ...base,
    HWAuthMethod: 'Password',
    HWAK: '',
    HWSK: '',
    HWDomain: 'acme',
    HWUser: 'deployer',
    HWPassword: 'iam-user-password-value',
  });
  const job = await manualCall();
  expect({ failed: job.state === 'failed', error: job.error }).toEqual({ failed: false, error: undefined });
  expect(token.isDone()).toBe(true);
  expect(asked.filter((a) => a.includes('(configured region)'))).toEqual([]);
  expect((await getManifest(swr.registry, 'regional-ns/app', 'v1'))?.digest).toBe(image.digest);
});
