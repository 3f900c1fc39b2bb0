// Who the service says it is on the wire: every call it makes carries `User-Agent: swr-harbor-sync/<version>`,
// as the peers' logs show it. Harbor (REST API, registry, token service) and SWR (registry, token service,
// management API) are the stand-ins, which record each caller's User-Agent; IAM is nock.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import nock from 'nock';
import { startHarbor, type HarborStandIn } from '../harness/harbor/index.js';
import { pushImage } from '../harness/images.js';
import { startServiceUnderTest, waitForJobs } from '../harness/service.js';
import { startSwr, type SwrStandIn } from '../harness/swr/index.js';
import { swrDestination } from '../../src/swr/destination.js';
import type { CredentialProvider } from '../../src/oci/index.js';

const AK = 'USERAGENTACCESSKEY01';
const SK = 'user-agent-secret-key-0123456789ab';
const VERSION = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
const OURS = `swr-harbor-sync/${VERSION}`;

let harbor: HarborStandIn;
let swr: SwrStandIn;

beforeAll(async () => {
  [harbor, swr] = await Promise.all([
    startHarbor({ projects: [{ name: 'proj', public: false }] }),
    startSwr({ ak: AK, sk: SK, namespaces: ['mirror'], requestsPerSecond: 0 }),
  ]);
  await pushImage(harbor.access, 'proj/app', 'v1', { format: 'docker', layers: [{ seed: 'user-agent', size: 8_000 }] });
});

afterAll(async () => {
  nock.cleanAll();
  await Promise.all([harbor?.stop(), swr?.stop()]);
});

/** The kind of call a path is: Harbor's or SWR's REST API, a registry call, or a token request. */
function kindOf(path: string): string {
  if (path.startsWith('/api/')) return 'Harbor API';
  if (path.startsWith('/v2/manage/')) return 'SWR management API';
  if (path === '/v2/' || path.startsWith('/v2/')) return 'registry';
  if (path.startsWith('/service/token') || path.startsWith('/swr/auth/')) return 'token service';
  return path;
}

/** Each distinct User-Agent with the kinds of call that sent it, for a readable failure. */
function byAgent(requests: Array<{ path: string; userAgent?: string }>): Record<string, string[]> {
  const seen: Record<string, Set<string>> = {};
  for (const r of requests) (seen[r.userAgent ?? '(none)'] ??= new Set()).add(kindOf(r.path.split('?')[0]));
  return Object.fromEntries(Object.entries(seen).map(([agent, kinds]) => [agent, [...kinds].sort()]));
}

test('a project sync and a readiness check: every call to Harbor and SWR says swr-harbor-sync/<version>', async () => {
  harbor.requests.length = 0;
  swr.requests.length = 0;
  const sut = await startServiceUnderTest(harbor.host, swr.host, {
    HWAK: AK,
    HWSK: SK,
    SWRManageNamespaces: 'true',
    SWRApiEndpoint: swr.url,
  });
  try {
    const res = await fetch(`${sut.url}/api/v1/sync`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ project: 'proj' }),
    });
    expect(res.status).toBe(202);
    const jobs = await waitForJobs(sut.url, 'proj', (all) => all.some((j) => j.state === 'succeeded'));
    expect(jobs[0].results.map((r) => r.status)).toEqual(['copied']);
    expect((await fetch(`${sut.url}/readyz`)).status).toBe(200);
  } finally {
    await sut.stop();
  }
  // Every kind of call (REST API, registry, token service; registry, token service, management API), and only
  // this User-Agent.
  expect(byAgent(harbor.requests)).toEqual({ [OURS]: ['Harbor API', 'registry', 'token service'] });
  expect(byAgent(swr.requests)).toEqual({ [OURS]: ['SWR management API', 'registry', 'token service'] });
});

test('HWAuthMethod=Password: the IAM token request and the management call for the temporary login say it too', async () => {
  const agents: Record<string, string | undefined> = {};
  const iam = nock('https://iam.example.test')
    .post('/v3/auth/tokens')
    .reply(function () {
      agents.iam = this.req.headers['user-agent'];
      return [
        201,
        { token: { expires_at: new Date(Date.now() + 86_400_000).toISOString() } },
        { 'x-subject-token': 'tok' },
      ];
    });
  const login = Buffer.from('cn-north-4@TEMPORARY:temporary-password').toString('base64');
  const api = nock('https://swr-api.example.test')
    .post('/v2/manage/utils/secret')
    .query(true)
    .reply(function () {
      agents.management = this.req.headers['user-agent'];
      return [200, { auths: { 'swr.cn-north-4.myhuaweicloud.com': { auth: login } } }];
    });
  const destination = swrDestination(
    { authMethod: 'Password', domain: 'account', user: 'someone', password: 'iam-password-0123', region: 'cn-north-4' },
    {
      registry: 'swr.cn-north-4.myhuaweicloud.com',
      apiEndpoint: 'https://swr-api.example.test',
      iamEndpoint: 'https://iam.example.test',
      manageNamespaces: false,
    },
  );
  await expect((destination.credentials as CredentialProvider).get()).resolves.toMatchObject({
    username: 'cn-north-4@TEMPORARY',
  });
  expect(iam.isDone() && api.isDone()).toBe(true);
  expect(agents).toEqual({ iam: OURS, management: OURS });
});
