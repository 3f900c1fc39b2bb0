// The service's request surface end to end, against the Harbor stand-in and real registries: the sync API,
// the jobs API, the old tool's manual call with its credential headers, the shared secrets, and the promise
// that no secret reaches an answer or a log.
import { createHmac, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { Job } from '../../src/jobs/types.js';
import { startHarbor, type HarborStandIn } from '../harness/harbor/index.js';
import { getManifest, listTags, pushImage, type PushedImage } from '../harness/images.js';
import { startRegistry, type RunningRegistry } from '../harness/registry.js';
import { redisSnapshot, startServiceUnderTest, testQueueBackend, type ServiceUnderTest } from '../harness/service.js';
import type { ServiceJson } from '../harness/service-json.js';
import { until } from '../harness/until.js';

// Secrets: the ones startServiceUnderTest configures, and the ones this file sends or configures.
const CONFIG_AK = 'TESTACCESSKEYVALUE01';
const CONFIG_SK = 'test-secret-key-value-0123456789';
const HARBOR_PASSWORD = 'Harbor12345';
const HEADER_AK = 'HEADERACCESSKEY00042';
const HEADER_SK = 'header-sk-value-9f8e7d6c5b4a3210';
const HEADER_HW_PASSWORD = 'header-hw-password-55aa66bb';
const WRONG_HARBOR_PASSWORD = 'wrong-harbor-pass-7c1d9e2f';
const API_TOKEN = 'api-token-value-5e4d3c2b1a0f9e8d';
const WEBHOOK_AUTH = 'Secret webhook-auth-value-0a1b2c3d4e';
const SECRETS = [
  CONFIG_SK,
  HARBOR_PASSWORD,
  HEADER_SK,
  HEADER_HW_PASSWORD,
  WRONG_HARBOR_PASSWORD,
  API_TOKEN,
  WEBHOOK_AUTH,
  // What the secrets become on the wire: SWR logins derived from AK/SK, Basic headers.
  createHmac('sha256', CONFIG_SK).update(CONFIG_AK).digest('hex'),
  createHmac('sha256', HEADER_SK).update(HEADER_AK).digest('hex'),
  Buffer.from(`admin:${HARBOR_PASSWORD}`).toString('base64'),
  Buffer.from(`admin:${WRONG_HARBOR_PASSWORD}`).toString('base64'),
];

let harbor: HarborStandIn;
let dst: RunningRegistry;
let dstAuth: RunningRegistry;
/** Configured as the harness does: Harbor admin credentials, no shared secrets. */
let sut: ServiceUnderTest;
/** ApiToken and WebhookAuthHeader set; no Harbor credentials configured. */
let secured: ServiceUnderTest;
/** A destination that accepts no AK/SK login. */
let refusing: ServiceUnderTest;
/** AllowHeaderCredentials=false. */
let headersOff: ServiceUnderTest;
const images: Record<string, PushedImage> = {};

beforeAll(async () => {
  [harbor, dst, dstAuth] = await Promise.all([
    startHarbor({
      projects: [
        { name: 'proj', public: false },
        { name: 'pub', public: true },
        { name: 'other', public: false },
      ],
    }),
    startRegistry(),
    startRegistry({ auth: 'htpasswd' }),
  ]);
  images['proj/app:v1'] = await pushImage(harbor.access, 'proj/app', 'v1', {
    format: 'docker',
    layers: [{ seed: 'api-app-v1', size: 20_000 }],
  });
  images['proj/app:v2'] = await pushImage(harbor.access, 'proj/app', 'v2', {
    format: 'oci',
    layers: [{ seed: 'api-app-v2', size: 20_000 }],
  });
  images['proj/tools:t1'] = await pushImage(harbor.access, 'proj/tools', 't1', {
    format: 'docker',
    layers: [{ seed: 'api-tools', size: 10_000 }],
  });
  images['pub/web:latest'] = await pushImage(harbor.access, 'pub/web', 'latest', {
    format: 'oci',
    layers: [{ seed: 'api-web', size: 10_000 }],
  });
  sut = await startServiceUnderTest(harbor.host, dst.host);
  secured = await startServiceUnderTest(harbor.host, dst.host, {
    ApiToken: API_TOKEN,
    WebhookAuthHeader: WEBHOOK_AUTH,
    HarborUser: '',
    HarborPassword: '',
  });
  refusing = await startServiceUnderTest(harbor.host, dstAuth.host);
  headersOff = await startServiceUnderTest(harbor.host, dst.host, { AllowHeaderCredentials: 'false' });
}, 120_000);

afterAll(async () => {
  await Promise.all([sut?.stop(), secured?.stop(), refusing?.stop(), headersOff?.stop()]);
  await Promise.all([harbor?.stop(), dst?.stop(), dstAuth?.stop()]);
});

interface Answer {
  status: number;
  text: string;
  json: ServiceJson | undefined;
  contentType: string;
}

/** Every answer, whatever the test, must be free of secrets. */
async function call(
  base: ServiceUnderTest,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  const res = await fetch(`${base.url}${path}`, { method, headers: options.headers, body: options.body });
  const text = await res.text();
  for (const secret of SECRETS) expect(text).not.toContain(secret);
  let json: ServiceJson | undefined;
  try {
    json = JSON.parse(text) as ServiceJson;
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json, contentType: res.headers.get('content-type') ?? '' };
}

const postJson = (base: ServiceUnderTest, path: string, body: unknown, headers: Record<string, string> = {}) =>
  call(base, 'POST', path, {
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

/** A 4xx answer in the service's error shape, with the given code and a message matching. */
function expectError(answer: Answer, status: number, code: string, message?: RegExp): void {
  expect({ status: answer.status, code: answer.json?.error?.code }).toEqual({ status, code });
  expect(answer.contentType).toMatch(/^application\/json/);
  expect(Object.keys(answer.json!)).toEqual(['error']);
  expect(Object.keys(answer.json!.error!).sort()).toEqual(['code', 'message']);
  if (message) expect(answer.json!.error!.message).toMatch(message);
}

async function jobCount(base: ServiceUnderTest): Promise<number> {
  const health = await call(base, 'GET', '/healthz');
  expect(health.status).toBe(200);
  return Object.values(health.json!.jobs as Record<string, number>).reduce((a, b) => a + b, 0);
}

/** Runs `action` and checks it left the job store as it was. */
async function createsNoJob<T>(base: ServiceUnderTest, action: () => Promise<T>): Promise<T> {
  const before = await jobCount(base);
  const result = await action();
  expect(await jobCount(base)).toBe(before);
  return result;
}

async function finalJob(
  base: ServiceUnderTest,
  statusPath: string,
  headers: Record<string, string> = {},
  timeoutMs = 30_000,
): Promise<Job> {
  let job: Job | undefined;
  return until(
    `job ${statusPath} to finish`,
    async () => {
      const answer = await call(base, 'GET', statusPath, { headers });
      expect(answer.status).toBe(200);
      job = answer.json as Job;
      return job.state !== 'queued' && job.state !== 'running' ? job : undefined;
    },
    timeoutMs,
  ).catch((error: Error) => {
    throw /^timed out waiting/.test(error.message)
      ? new Error(`job ${statusPath} did not finish: ${JSON.stringify(job)}`)
      : error;
  });
}

/** A 202 with a job id and its status URL. */
function expectQueued(answer: Answer): string {
  expect(answer.status).toBe(202);
  expect(answer.json).toEqual({
    jobId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    state: 'queued',
    status: `/api/v1/jobs/${answer.json!.jobId}`,
  });
  return answer.json!.status as string;
}

async function expectAt(registry: RunningRegistry, repo: string, tag: string, source: PushedImage): Promise<void> {
  expect((await getManifest(registry, repo, tag))?.digest).toBe(source.digest);
}

describe('POST /api/v1/sync', () => {
  test('syncs the project into its mapped namespace', async () => {
    const statusPath = expectQueued(await postJson(sut, '/api/v1/sync', { project: 'proj' }));
    const job = await finalJob(sut, statusPath);
    expect(job).toMatchObject({
      state: 'succeeded',
      kind: 'project',
      project: 'proj',
      spec: { kind: 'project', project: 'proj', namespace: 'mirror' },
    });
    expect(job.results.map((r) => [r.destination, r.status]).sort()).toEqual([
      [`${dst.host}/mirror/app:v1`, 'copied'],
      [`${dst.host}/mirror/app:v2`, 'copied'],
      [`${dst.host}/mirror/tools:t1`, 'copied'],
    ]);
    expect((await listTags(dst, 'mirror/app')).sort()).toEqual(['v1', 'v2']);
    await expectAt(dst, 'mirror/app', 'v1', images['proj/app:v1']);
    await expectAt(dst, 'mirror/app', 'v2', images['proj/app:v2']);
    await expectAt(dst, 'mirror/tools', 't1', images['proj/tools:t1']);
  });

  test('dryRun copies nothing and reports what it would copy', async () => {
    const statusPath = expectQueued(await postJson(sut, '/api/v1/sync', { project: 'pub', dryRun: true }));
    const job = await finalJob(sut, statusPath);
    expect(job.state).not.toBe('failed');
    expect(job.results).toEqual([
      expect.objectContaining({
        destination: `${dst.host}/public-ns/web:latest`,
        status: 'skipped',
        reason:
          'dry run: would copy as OCI; converted to Docker format if the destination refuses OCI (ManifestFormat=auto)',
        dryRun: true,
        sourceDigest: images['pub/web:latest'].digest,
      }),
    ]);
    expect(await listTags(dst, 'public-ns/web')).toEqual([]);
  });

  test('dryRun after a sync reports the images as in step', async () => {
    const job = await finalJob(
      sut,
      expectQueued(await postJson(sut, '/api/v1/sync', { project: 'proj', dryRun: 'true' })),
    );
    expect(job.results.map((r) => r.reason)).toEqual(
      Array(3).fill('dry run: would skip (destination already has this digest)'),
    );
    expect(job.results.every((r) => r.dryRun === true && r.bytesUploaded === 0)).toBe(true);
  });

  test('repositories and tags filters, with an explicit namespace', async () => {
    const statusPath = expectQueued(
      await postJson(sut, '/api/v1/sync', {
        project: 'proj',
        namespace: 'filtered',
        repositories: ['app'],
        tags: ['v2'],
        overwrite: false,
      }),
    );
    const job = await finalJob(sut, statusPath);
    expect(job.state).toBe('succeeded');
    expect(job.results.map((r) => r.destination)).toEqual([`${dst.host}/filtered/app:v2`]);
    expect(await listTags(dst, 'filtered/app')).toEqual(['v2']);
    expect(await listTags(dst, 'filtered/tools')).toEqual([]);
    await expectAt(dst, 'filtered/app', 'v2', images['proj/app:v2']);
  });

  const bad: Array<[string, string, string, number, string, RegExp]> = [
    ['not JSON', '{"project": "proj",', 'application/json', 400, 'BAD_JSON', /not valid JSON/],
    ['JSON null', 'null', 'application/json', 400, 'BAD_JSON', /not valid JSON/],
    ['not sent as JSON', 'project=proj', 'application/x-www-form-urlencoded', 400, 'BAD_REQUEST', /send a JSON object/],
    ['an array', '[{"project": "proj"}]', 'application/json', 400, 'BAD_REQUEST', /send a JSON object/],
    [
      'an unknown field',
      JSON.stringify({ project: 'proj', namspace: 'x' }),
      'application/json',
      400,
      'BAD_REQUEST',
      /unknown field\(s\) namspace; allowed: project, namespace, repositories, tags, filters, overwrite, dryRun/,
    ],
    [
      'no project',
      JSON.stringify({ namespace: 'mirror' }),
      'application/json',
      400,
      'BAD_REQUEST',
      /project is required: the Harbor project name/,
    ],
    [
      'a project not in NamespaceMap without namespace',
      JSON.stringify({ project: 'other' }),
      'application/json',
      400,
      'BAD_REQUEST',
      /project "other" is not in NamespaceMap: give "namespace" or add the project to NamespaceMap/,
    ],
    [
      'an invalid namespace',
      JSON.stringify({ project: 'proj', namespace: '9lives' }),
      'application/json',
      400,
      'BAD_REQUEST',
      /namespace "9lives" is not a valid SWR namespace: it must start with a lowercase letter/,
    ],
    [
      'a path trick in the project',
      JSON.stringify({ project: '../x', namespace: 'ok' }),
      'application/json',
      400,
      'BAD_REQUEST',
      /project "\.\.\/x" is not a Harbor project name/,
    ],
    [
      'a path trick in the namespace',
      JSON.stringify({ project: 'proj', namespace: 'a/../b' }),
      'application/json',
      400,
      'BAD_REQUEST',
      /namespace "a\/\.\.\/b" is not a valid SWR namespace/,
    ],
    [
      'a repository ../x',
      JSON.stringify({ project: 'proj', repositories: ['../x'] }),
      'application/json',
      400,
      'BAD_REQUEST',
      /repositories\[0\] "\.\.\/x" is not a valid repository name/,
    ],
    [
      'a repository a/../b',
      JSON.stringify({ project: 'proj', repositories: ['app', 'a/../b'] }),
      'application/json',
      400,
      'BAD_REQUEST',
      /repositories\[1\] "a\/\.\.\/b" is not a valid repository name/,
    ],
    [
      'tags not a list',
      JSON.stringify({ project: 'proj', tags: 'v1' }),
      'application/json',
      400,
      'BAD_REQUEST',
      /tags must be a non-empty list of tag names/,
    ],
    [
      'an empty tag list',
      JSON.stringify({ project: 'proj', tags: [] }),
      'application/json',
      400,
      'BAD_REQUEST',
      /tags must be a non-empty list of tag names/,
    ],
    [
      'a tag with a path trick',
      JSON.stringify({ project: 'proj', tags: ['../v1'] }),
      'application/json',
      400,
      'BAD_REQUEST',
      /tags\[0\] "\.\.\/v1" is not a valid tag name/,
    ],
    [
      'overwrite not boolean',
      JSON.stringify({ project: 'proj', overwrite: 'yes' }),
      'application/json',
      400,
      'BAD_REQUEST',
      /overwrite must be true or false/,
    ],
    [
      'overwrite a number',
      JSON.stringify({ project: 'proj', overwrite: 1 }),
      'application/json',
      400,
      'BAD_REQUEST',
      /overwrite must be true or false/,
    ],
    [
      'dryRun not boolean',
      JSON.stringify({ project: 'proj', dryRun: 'no' }),
      'application/json',
      400,
      'BAD_REQUEST',
      /dryRun must be true or false/,
    ],
    [
      'an unknown Harbor project',
      JSON.stringify({ project: 'ghost', namespace: 'ghost' }),
      'application/json',
      404,
      'PROJECT_NOT_FOUND',
      /Harbor has no project "ghost"/,
    ],
    [
      'a body over 256 kB',
      JSON.stringify({ project: 'proj', repositories: Array.from({ length: 30_000 }, (_, i) => `repo-${i}`) }),
      'application/json',
      413,
      'TOO_LARGE',
      /too large/,
    ],
  ];
  test.each(bad)('%s: 4xx, and no job', async (_name, body, contentType, status, code, message) => {
    const answer = await createsNoJob(sut, () =>
      call(sut, 'POST', '/api/v1/sync', { headers: { 'content-type': contentType }, body }),
    );
    expectError(answer, status, code, message);
  });
});

describe('GET /api/v1/jobs', () => {
  test('filters by state and project', async () => {
    const succeeded = await call(sut, 'GET', '/api/v1/jobs?state=succeeded');
    expect(succeeded.status).toBe(200);
    const jobs = succeeded.json!.jobs as Job[];
    expect(jobs.length).toBeGreaterThanOrEqual(3);
    expect(jobs.every((j) => j.state === 'succeeded')).toBe(true);

    const pub = (await call(sut, 'GET', '/api/v1/jobs?project=pub')).json!.jobs as Job[];
    expect(pub.length).toBe(1);
    expect(pub[0].spec).toMatchObject({ project: 'pub', dryRun: true });

    const proj = (await call(sut, 'GET', '/api/v1/jobs?project=proj&state=succeeded')).json!.jobs as Job[];
    expect(proj.length).toBeGreaterThanOrEqual(3);
    expect(proj.every((j) => j.project === 'proj' && j.state === 'succeeded')).toBe(true);

    expect((await call(sut, 'GET', '/api/v1/jobs?project=ghost')).json).toEqual({ jobs: [] });
    expect((await call(sut, 'GET', '/api/v1/jobs?state=failed')).json).toEqual({ jobs: [] });
    expect(((await call(sut, 'GET', '/api/v1/jobs?limit=1')).json!.jobs as Job[]).length).toBe(1);
  });

  test.each([
    ['an unknown state', '/api/v1/jobs?state=done', /state must be one of queued, running, succeeded, failed, skipped/],
    ['two states', '/api/v1/jobs?state=queued&state=failed', /state must be one of/],
    ['limit 0', '/api/v1/jobs?limit=0', /limit must be a whole number from 1 to 1000/],
    ['limit abc', '/api/v1/jobs?limit=abc', /limit must be a whole number from 1 to 1000/],
    ['limit 1.5', '/api/v1/jobs?limit=1.5', /limit must be a whole number from 1 to 1000/],
    ['limit 1001', '/api/v1/jobs?limit=1001', /limit must be a whole number from 1 to 1000/],
    ['a path trick in the project', '/api/v1/jobs?project=..%2Fx', /project "\.\.\/x" is not a Harbor project name/],
    [
      'a job id that is not a UUID',
      '/api/v1/jobs/not-a-uuid',
      /a job id is a UUID, as returned when the job was queued/,
    ],
    ['a job id with a path trick', '/api/v1/jobs/..%2F..%2Fetc%2Fpasswd', /a job id is a UUID/],
  ])('%s: 400', async (_name, path, message) => {
    expectError(await call(sut, 'GET', path), 400, 'BAD_REQUEST', message);
  });

  test('an unknown job: 404', async () => {
    const id = randomUUID();
    expectError(await call(sut, 'GET', `/api/v1/jobs/${id}`), 404, 'JOB_NOT_FOUND', new RegExp(`no job ${id}`));
  });
});

/** The old tool's manual call, header for header; `undefined` leaves a header out. */
function oldToolHeaders(over: Record<string, string | undefined> = {}): Record<string, string> {
  const all: Record<string, string | undefined> = {
    Projectname: 'proj',
    Namespace: 'manual-ns',
    HarborUser: 'admin',
    HarborPassword: HARBOR_PASSWORD,
    HWAuthMethod: 'AKSK',
    HWAK: HEADER_AK,
    HWSK: HEADER_SK,
    HWDomain: 'example-domain',
    HWUser: 'example-user',
    HWPassword: HEADER_HW_PASSWORD,
    RegionName: 'cn-north-4',
    ImageOverwrite: 'false',
    ...over,
  };
  return Object.fromEntries(Object.entries(all).filter((e): e is [string, string] => e[1] !== undefined));
}

const manual = (base: ServiceUnderTest, headers: Record<string, string>) =>
  call(base, 'POST', '/service/synchronization/namespace', { headers });

describe("POST /service/synchronization/namespace (the old tool's call)", () => {
  // On Redis any replica may run the job, and credentials from headers stay in the receiving one's memory.
  test('a private project with the right headers: 202, and the job copies with those credentials (409 on Redis)', async () => {
    if (testQueueBackend === 'redis') {
      const answer = await createsNoJob(sut, () => manual(sut, oldToolHeaders()));
      expectError(
        answer,
        409,
        'HEADER_CREDENTIALS_NEED_ONE_INSTANCE',
        /with QueueBackend=redis the job may run on another replica, which would not have credentials sent in headers: drop .*HWSK/,
      );
      return;
    }
    const statusPath = expectQueued(await manual(sut, oldToolHeaders()));
    const job = await finalJob(sut, statusPath);
    expect(job.state).toBe('succeeded');
    expect(job.spec).toEqual({
      kind: 'project',
      project: 'proj',
      namespace: 'manual-ns',
      overwrite: false,
      requestCredentials: true,
    });
    expect((await listTags(dst, 'manual-ns/app')).sort()).toEqual(['v1', 'v2']);
    await expectAt(dst, 'manual-ns/tools', 't1', images['proj/tools:t1']);
  });

  test('a public project needs no Harbor credentials, even when the service has none configured', async () => {
    const headers = {
      ...oldToolHeaders({
        Projectname: 'pub',
        Namespace: 'pub-manual',
        HarborUser: undefined,
        HarborPassword: undefined,
      }),
      authorization: `Bearer ${API_TOKEN}`,
    };
    if (testQueueBackend === 'redis') {
      expectError(
        await createsNoJob(secured, () => manual(secured, headers)),
        409,
        'HEADER_CREDENTIALS_NEED_ONE_INSTANCE',
      );
      return;
    }
    const statusPath = expectQueued(await manual(secured, headers));
    const job = await finalJob(secured, statusPath, { authorization: `Bearer ${API_TOKEN}` });
    expect(job.state).toBe('succeeded');
    await expectAt(dst, 'pub-manual/web', 'latest', images['pub/web:latest']);
  });

  test('a private project without Harbor credentials anywhere: 401 asking for them', async () => {
    const headers = {
      ...oldToolHeaders({ HarborUser: undefined, HarborPassword: undefined }),
      authorization: `Bearer ${API_TOKEN}`,
    };
    const answer = await createsNoJob(secured, () => manual(secured, headers));
    expectError(
      answer,
      401,
      'HARBOR_CREDENTIALS',
      /project "proj" is private or unknown to anonymous users: send HarborUser and HarborPassword/,
    );
  });

  test.each<[string, Record<string, string | undefined>, number, string, RegExp]>([
    [
      'a wrong Harbor password',
      { HarborPassword: WRONG_HARBOR_PASSWORD },
      401,
      'HARBOR_CREDENTIALS',
      /Harbor refused access to project "proj": check HarborUser and HarborPassword/,
    ],
    [
      'an unknown project',
      { Projectname: 'ghost', Namespace: 'ghost' },
      404,
      'PROJECT_NOT_FOUND',
      /Harbor has no project "ghost"; check the Projectname header/,
    ],
    [
      'no Projectname',
      { Projectname: undefined },
      400,
      'BAD_REQUEST',
      /Projectname header is required: the Harbor project name/,
    ],
    [
      'a path trick in Projectname',
      { Projectname: '../proj' },
      400,
      'BAD_REQUEST',
      /Projectname header "\.\.\/proj" is not a Harbor project name/,
    ],
    [
      'a bad region',
      { RegionName: 'cn-nowhere-1' },
      400,
      'BAD_REQUEST',
      /RegionName "cn-nowhere-1" is not a region SWR serves; use one of .*cn-north-4.*eu-west-101/,
    ],
    [
      'a bad namespace',
      { Namespace: 'Team_A' },
      400,
      'BAD_REQUEST',
      /Namespace header "Team_A" is not a valid SWR namespace/,
    ],
    [
      'a namespace with a path trick',
      { Namespace: 'a/../b' },
      400,
      'BAD_REQUEST',
      /Namespace header "a\/\.\.\/b" is not a valid SWR namespace/,
    ],
    [
      'an unmapped project without Namespace',
      { Projectname: 'other', Namespace: undefined },
      400,
      'BAD_REQUEST',
      /Namespace header is required: the SWR namespace/,
    ],
    [
      'HWAuthMethod=Password without the account and password',
      { HWAuthMethod: 'Password', HWDomain: undefined, HWPassword: undefined },
      400,
      'BAD_REQUEST',
      /HWDomain and HWPassword .* are required with HWAuthMethod=Password/,
    ],
    [
      'an unknown HWAuthMethod',
      { HWAuthMethod: 'Token' },
      400,
      'BAD_REQUEST',
      /HWAuthMethod must be AKSK or Password, got "Token"/,
    ],
    ['HWAK without HWSK', { HWSK: undefined }, 400, 'BAD_REQUEST', /HWAK and HWSK are required with HWAuthMethod=AKSK/],
    [
      'ImageOverwrite not boolean',
      { ImageOverwrite: 'maybe' },
      400,
      'BAD_REQUEST',
      /ImageOverwrite header must be true or false/,
    ],
  ])('%s: no job', async (_name, over, status, code, message) => {
    const answer = await createsNoJob(sut, () => manual(sut, oldToolHeaders(over)));
    expectError(answer, status, code, message);
  });

  test('a destination that refuses the AK/SK login: 401 naming the Huawei credentials, no job', async () => {
    for (const headers of [
      oldToolHeaders({ Projectname: 'pub', Namespace: 'pub-ns' }),
      oldToolHeaders({ Projectname: 'pub', Namespace: 'pub-ns', HWAK: undefined, HWSK: undefined }),
    ]) {
      const answer = await createsNoJob(refusing, () => manual(refusing, headers));
      expectError(
        answer,
        401,
        'HUAWEI_CREDENTIALS',
        new RegExp(`${dstAuth.host} refused the Huawei Cloud credentials: check HWAK/HWSK .*RegionName`),
      );
    }
  });

  test('AllowHeaderCredentials=false: credential headers are refused with 403; without them the configured ones serve', async () => {
    const answer = await createsNoJob(headersOff, () =>
      manual(headersOff, oldToolHeaders({ Projectname: 'pub', Namespace: 'pub-off' })),
    );
    expectError(
      answer,
      403,
      'HEADER_CREDENTIALS_DISABLED',
      /AllowHeaderCredentials=false\): drop HarborUser, HarborPassword, HWAK, HWSK, HWDomain, HWUser, HWPassword/,
    );

    const one = await createsNoJob(headersOff, () =>
      manual(headersOff, { Projectname: 'pub', Namespace: 'pub-off', HWSK: HEADER_SK }),
    );
    expectError(one, 403, 'HEADER_CREDENTIALS_DISABLED', /drop HWSK and/);

    const statusPath = expectQueued(
      await manual(headersOff, { Projectname: 'pub', Namespace: 'pub-off', RegionName: 'cn-north-4' }),
    );
    expect((await finalJob(headersOff, statusPath)).state).toBe('succeeded');
    await expectAt(dst, 'pub-off/web', 'latest', images['pub/web:latest']);
  });
});

describe('shared secrets', () => {
  const bearer = { authorization: `Bearer ${API_TOKEN}` };

  test.each<[string, Record<string, string>]>([
    ['no Authorization', {}],
    ['a wrong token', { authorization: 'Bearer not-the-token' }],
    ['the token without Bearer', { authorization: API_TOKEN }],
    ['the token as Basic', { authorization: `Basic ${API_TOKEN}` }],
  ])('ApiToken set, %s: /api/v1 and the manual call answer 401 and queue nothing', async (_name, auth) => {
    expectError(
      await call(secured, 'GET', '/api/v1/jobs', { headers: auth }),
      401,
      'UNAUTHORIZED',
      /send Authorization: Bearer <ApiToken>/,
    );
    expectError(await call(secured, 'GET', `/api/v1/jobs/${randomUUID()}`, { headers: auth }), 401, 'UNAUTHORIZED');
    const sync = await createsNoJob(secured, () => postJson(secured, '/api/v1/sync', { project: 'pub' }, auth));
    expectError(sync, 401, 'UNAUTHORIZED', /send Authorization: Bearer <ApiToken>/);
    const old = await createsNoJob(secured, () =>
      manual(secured, { ...oldToolHeaders({ Projectname: 'pub', Namespace: 'pub-manual' }), ...auth }),
    );
    expectError(old, 401, 'UNAUTHORIZED', /send Authorization: Bearer <ApiToken>/);
  });

  test('ApiToken set, with the token: the API works', async () => {
    const list = await call(secured, 'GET', '/api/v1/jobs', { headers: bearer });
    expect(list.status).toBe(200);
    const before = (list.json!.jobs as Job[]).length;
    const statusPath = expectQueued(
      await postJson(secured, '/api/v1/sync', { project: 'pub', namespace: 'pub-token', dryRun: true }, bearer),
    );
    expect((await finalJob(secured, statusPath, bearer)).results).toEqual([
      expect.objectContaining({ reason: expect.stringMatching(/^dry run: would copy as OCI/) }),
    ]);
    expect(((await call(secured, 'GET', '/api/v1/jobs', { headers: bearer })).json!.jobs as Job[]).length).toBe(
      before + 1,
    );
  });

  test.each<[string, Record<string, string>]>([
    ['no Authorization', {}],
    ['a wrong Authorization', { authorization: 'Secret webhook-auth-value-0a1b2c3d4f' }],
    ['the value with different case', { authorization: WEBHOOK_AUTH.toLowerCase() }],
    ['the ApiToken instead', bearer],
  ])('WebhookAuthHeader set, %s: 401 and nothing recorded', async (_name, auth) => {
    const payload = harbor.webhookPayload('default', {
      project: 'pub',
      repository: 'web',
      digest: images['pub/web:latest'].digest,
      tag: 'latest',
    });
    const before = ((await call(secured, 'GET', '/api/v1/jobs?project=pub', { headers: bearer })).json!.jobs as Job[])
      .length;
    const answer = await createsNoJob(secured, () =>
      call(secured, 'POST', '/service/notifications', {
        headers: { 'content-type': payload.contentType, ...auth },
        body: payload.body,
      }),
    );
    expectError(answer, 401, 'UNAUTHORIZED', /does not match WebhookAuthHeader/);
    expect(
      ((await call(secured, 'GET', '/api/v1/jobs?project=pub', { headers: bearer })).json!.jobs as Job[]).length,
    ).toBe(before);
  });

  test('WebhookAuthHeader set, the exact value: 200 and the push is synced', async () => {
    const payload = harbor.webhookPayload('cloudevents', {
      project: 'pub',
      repository: 'web',
      digest: images['pub/web:latest'].digest,
      tag: 'latest',
    });
    const before = await jobCount(secured);
    const answer = await call(secured, 'POST', '/service/notifications', {
      headers: { 'content-type': payload.contentType, authorization: WEBHOOK_AUTH },
      body: payload.body,
    });
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({
      accepted: 1,
      jobs: [expect.stringMatching(/^[0-9a-f-]{36}$/)],
      pending: 0,
      ignored: [],
    });
    expect(await jobCount(secured)).toBe(before + 1);
    const job = await finalJob(secured, `/api/v1/jobs/${(answer.json!.jobs as string[])[0]}`, bearer);
    expect(job).toMatchObject({
      state: 'succeeded',
      spec: { kind: 'image', project: 'pub', repository: 'web', namespace: 'public-ns', tags: ['latest'] },
    });
    await expectAt(dst, 'public-ns/web', 'latest', images['pub/web:latest']);
  });

  test('/healthz needs no token and answers the job counts', async () => {
    const health = await call(secured, 'GET', '/healthz');
    expect(health.status).toBe(200);
    expect(health.json).toEqual({
      status: 'ok',
      jobs: {
        queued: expect.any(Number),
        running: expect.any(Number),
        succeeded: expect.any(Number),
        failed: expect.any(Number),
        skipped: expect.any(Number),
      },
      running: expect.any(Number),
    });
    const jobs = (await call(secured, 'GET', '/api/v1/jobs?limit=1000', { headers: bearer })).json!.jobs as Job[];
    const byState: Record<string, number> = { queued: 0, running: 0, succeeded: 0, failed: 0, skipped: 0 };
    for (const j of jobs) byState[j.state]++;
    expect(health.json!.jobs).toEqual(byState);
    // On Redis the old call with header credentials made no job (409): one fewer.
    expect((health.json!.jobs as Record<string, number>).succeeded).toBeGreaterThanOrEqual(
      testQueueBackend === 'redis' ? 2 : 3,
    );
  });
});

test('no secret appears in any file of any LogDir or DataDir, nor in Redis when jobs live there', async () => {
  // Close first, so that every log line is flushed (stop() in afterAll is then only the clean-up).
  const all = [sut, secured, refusing, headersOff];
  await Promise.all(all.map((s) => s.running.close(0)));
  let files = 0;
  const paths: string[] = await redisSnapshot();
  for (const s of all) {
    for (const dir of [s.logDir, s.dataDir]) {
      // On Redis the DataDir is never made: the jobs are in the snapshot instead.
      for (const entry of await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => [])) {
        if (entry.isFile()) paths.push(join(entry.parentPath, entry.name));
      }
    }
  }
  for (const path of paths) {
    const bytes = await readFile(path);
    files++;
    for (const secret of SECRETS) {
      if (bytes.includes(secret))
        throw new Error(`${path} contains a secret (one of ${SECRETS.length}, index ${SECRETS.indexOf(secret)})`);
    }
  }
  // The logs really were there to search: running.log of each service, and project logs.
  expect(files).toBeGreaterThanOrEqual(all.length * 2);
  expect(await readFile(join(sut.logDir, 'running.log'), 'utf8')).toMatch(
    /POST \/service\/synchronization\/namespace -> 401 HARBOR_CREDENTIALS/,
  );
  expect(await readFile(join(sut.logDir, 'proj-success.log'), 'utf8')).toMatch(
    testQueueBackend === 'redis' ? /mirror\/app:v1/ : /manual-ns\/app:v1/,
  );
});
