// Secrets never leave the service: a full sync (webhook, /api/v1/sync, the old tool's manual call with
// credential headers) with known secret values, then every log file, the job store's bytes (database and
// WAL) and every API answer are searched for them. Also: an open API is warned about at start-up, and the
// shared-secret comparison accepts only the exact value.
import { createHmac } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { sameSecret } from '../../src/http/auth.js';
import type { Job } from '../../src/jobs/types.js';
import { distributionEnvelope, startHarbor, type HarborStandIn } from '../harness/harbor/index.js';
import { getManifest, pushImage, pushIndex, type PushedImage, type PushedIndex } from '../harness/images.js';
import { startRegistry, type RunningRegistry } from '../harness/registry.js';
import { startServiceUnderTest, type ServiceUnderTest } from '../harness/service.js';
import type { ServiceJson } from '../harness/service-json.js';
import { until } from '../harness/until.js';

const REGION = 'cn-north-4';
const HWAK = 'SECURITYACCESSKEY0042';
const HWSK = 'security-sk-value-4b7e1f0a9c3d5e26';
const HARBOR_USER = 'admin';
const HARBOR_PASSWORD = 'harbor-pass-value-6d2e8a1f';
const API_TOKEN = 'api-token-value-secure-71c0e3b5a9';
const WEBHOOK_BASIC = Buffer.from('harbor-hook:hook-pass-value-3f9a2c7d').toString('base64');
const WEBHOOK_AUTH = `Basic ${WEBHOOK_BASIC}`;
/** A second pair, sent only in headers of a call that the destination refuses. */
const OTHER_AK = 'OTHERACCESSKEYVALUE77';
const OTHER_SK = 'other-sk-value-never-logged-0c1d2e3f';
const OTHER_HARBOR_PASSWORD = 'other-harbor-pass-9e8d7c6b';
const LOGIN_PASSWORD = createHmac('sha256', HWSK).update(HWAK).digest('hex');
const OTHER_LOGIN_PASSWORD = createHmac('sha256', OTHER_SK).update(OTHER_AK).digest('hex');

const SECRETS: Record<string, string> = {
  HWSK,
  HARBOR_PASSWORD,
  API_TOKEN,
  WEBHOOK_AUTH,
  WEBHOOK_BASIC,
  'webhook password': 'hook-pass-value-3f9a2c7d',
  OTHER_SK,
  OTHER_HARBOR_PASSWORD,
  LOGIN_PASSWORD,
  OTHER_LOGIN_PASSWORD,
  'Harbor Basic': Buffer.from(`${HARBOR_USER}:${HARBOR_PASSWORD}`).toString('base64'),
  'other Harbor Basic': Buffer.from(`${HARBOR_USER}:${OTHER_HARBOR_PASSWORD}`).toString('base64'),
  'SWR login Basic': Buffer.from(`${REGION}@${HWAK}:${LOGIN_PASSWORD}`).toString('base64'),
  'other SWR login Basic': Buffer.from(`${REGION}@${OTHER_AK}:${OTHER_LOGIN_PASSWORD}`).toString('base64'),
  'HWSK url-encoded': encodeURIComponent(HWSK),
};

let harbor: HarborStandIn;
let dst: RunningRegistry;
let sut: ServiceUnderTest;
let open: ServiceUnderTest;
let image: PushedImage;
let index: PushedIndex;
/** Every answer body and header block the service gave during this file. */
const answers: string[] = [];

const bearer = { authorization: `Bearer ${API_TOKEN}` };

beforeAll(async () => {
  [harbor, dst] = await Promise.all([
    startHarbor({
      projects: [{ name: 'proj', public: false }],
      admin: { username: HARBOR_USER, password: HARBOR_PASSWORD },
    }),
    // The destination only accepts SWR's AK/SK-derived login, so the derived password really goes on the wire.
    startRegistry({ auth: 'htpasswd', username: `${REGION}@${HWAK}`, password: LOGIN_PASSWORD }),
  ]);
  image = await pushImage(harbor.access, 'proj/app', 'v1', {
    format: 'docker',
    layers: [{ seed: 'security-app', size: 10_000 }],
  });
  index = await pushIndex(harbor.access, 'proj/multi', 'm1', {
    format: 'oci',
    images: [
      { platform: { os: 'linux', architecture: 'amd64' }, layers: [{ seed: 'security-amd', size: 5_000 }] },
      { platform: { os: 'linux', architecture: 'arm64' }, layers: [{ seed: 'security-arm', size: 5_000 }] },
    ],
  });
  sut = await startServiceUnderTest(harbor.host, dst.host, {
    HWAK,
    HWSK,
    HarborUser: HARBOR_USER,
    HarborPassword: HARBOR_PASSWORD,
    ApiToken: API_TOKEN,
    WebhookAuthHeader: WEBHOOK_AUTH,
    NamespaceMap: 'proj:mirror',
  });
  open = await startServiceUnderTest(harbor.host, dst.host, { HWAK, HWSK, HarborPassword: HARBOR_PASSWORD });
}, 120_000);

afterAll(async () => {
  await Promise.all([sut?.stop(), open?.stop()]);
  await Promise.all([harbor?.stop(), dst?.stop()]);
});

async function call(
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<{ status: number; json: ServiceJson | undefined }> {
  const res = await fetch(`${sut.url}${path}`, { method, headers, body });
  const text = await res.text();
  answers.push(`${res.status} ${JSON.stringify([...res.headers])}\n${text}`);
  let json: ServiceJson | undefined;
  try {
    json = JSON.parse(text) as ServiceJson;
  } catch {
    json = undefined;
  }
  return { status: res.status, json };
}

async function finalJob(id: string): Promise<Job> {
  let job: Job | undefined;
  return until(`job ${id} to finish`, async () => {
    const answer = await call('GET', `/api/v1/jobs/${id}`, bearer);
    expect(answer.status).toBe(200);
    job = answer.json as Job;
    return job.state !== 'queued' && job.state !== 'running' ? job : undefined;
  }).catch((error: Error) => {
    throw /^timed out waiting/.test(error.message)
      ? new Error(`job ${id} did not finish: ${JSON.stringify(job)}`)
      : error;
  });
}

/** Names of the secrets found in `bytes` (empty when clean). */
function leaks(bytes: Buffer | string): string[] {
  const haystack = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  return Object.entries(SECRETS)
    .filter(([, value]) => haystack.includes(value) || haystack.includes(Buffer.from(value, 'utf16le')))
    .map(([name]) => name);
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

async function leaksIn(dirs: string[]): Promise<{ files: string[]; found: string[] }> {
  const files: string[] = [];
  const found: string[] = [];
  for (const dir of dirs) {
    for (const path of await filesUnder(dir)) {
      files.push(path);
      for (const name of leaks(await readFile(path))) found.push(`${path}: ${name}`);
    }
  }
  return { files, found };
}

describe('a full sync with known secrets', () => {
  test('webhook (Default, CloudEvents, envelope, multi-arch children) with the WebhookAuthHeader syncs', async () => {
    const hook = { authorization: WEBHOOK_AUTH };
    const def = harbor.webhookPayload('default', {
      project: 'proj',
      repository: 'app',
      digest: image.digest,
      tag: 'v1',
    });
    const first = await call('POST', '/service/notifications', { 'content-type': def.contentType, ...hook }, def.body);
    expect(first.status).toBe(200);
    expect(first.json!.accepted).toBe(1);
    const ce = harbor.webhookPayload('cloudevents', {
      project: 'proj',
      repository: 'app',
      digest: image.digest,
      tag: 'v1',
    });
    expect(
      (await call('POST', '/service/notifications', { 'content-type': ce.contentType, ...hook }, ce.body)).status,
    ).toBe(200);
    for (const child of index.children) {
      const c = harbor.webhookPayload('default', {
        project: 'proj',
        repository: 'multi',
        digest: child.digest,
        tag: child.digest,
      });
      expect(
        (await call('POST', '/service/notifications', { 'content-type': c.contentType, ...hook }, c.body)).status,
      ).toBe(200);
    }
    const env = distributionEnvelope(
      [
        {
          action: 'push',
          repository: 'proj/multi',
          digest: index.digest,
          tag: 'm1',
          mediaType: index.mediaType,
          size: index.size,
        },
      ],
      'v2',
    );
    const envAnswer = await call(
      'POST',
      '/service/notifications',
      { 'content-type': env.contentType, ...hook },
      env.body,
    );
    expect(envAnswer.status).toBe(200);

    const appJob = await finalJob((first.json!.jobs as string[])[0]);
    expect(appJob.state).toBe('succeeded');
    const multiJob = await finalJob((envAnswer.json!.jobs as string[])[0]);
    expect(multiJob.state).toBe('succeeded');
    expect((await getManifest(dst, 'mirror/app', 'v1'))?.digest).toBe(image.digest);
    expect((await getManifest(dst, 'mirror/multi', 'm1'))?.digest).toBe(index.digest);
  });

  test('/api/v1/sync with the ApiToken syncs the project', async () => {
    const queued = await call(
      'POST',
      '/api/v1/sync',
      { 'content-type': 'application/json', ...bearer },
      JSON.stringify({ project: 'proj', namespace: 'api-ns' }),
    );
    expect(queued.status).toBe(202);
    const job = await finalJob(queued.json!.jobId!);
    expect(job.state).toBe('succeeded');
    expect((await getManifest(dst, 'api-ns/app', 'v1'))?.digest).toBe(image.digest);
  });

  test('the manual call with credential headers syncs; one with a refused pair fails without echoing it', async () => {
    const headers = {
      ...bearer,
      Projectname: 'proj',
      Namespace: 'manual-ns',
      HarborUser: HARBOR_USER,
      HarborPassword: HARBOR_PASSWORD,
      HWAuthMethod: 'AKSK',
      HWAK,
      HWSK,
      RegionName: REGION,
    };
    const queued = await call('POST', '/service/synchronization/namespace', headers);
    expect(queued.status).toBe(202);
    const job = await finalJob(queued.json!.jobId!);
    expect(job.state).toBe('succeeded');
    expect((await getManifest(dst, 'manual-ns/app', 'v1'))?.digest).toBe(image.digest);

    const refusedDestination = await call('POST', '/service/synchronization/namespace', {
      ...headers,
      HWAK: OTHER_AK,
      HWSK: OTHER_SK,
    });
    expect(refusedDestination.status).toBeGreaterThanOrEqual(400);
    expect(refusedDestination.json!.error!.code).toEqual(expect.any(String));
    const refusedHarbor = await call('POST', '/service/synchronization/namespace', {
      ...headers,
      HarborPassword: OTHER_HARBOR_PASSWORD,
    });
    expect(refusedHarbor.status).toBe(401);
    // Wrong credentials in the Authorization header itself are not echoed either.
    const wrongToken = await call('GET', '/api/v1/jobs', { authorization: `Bearer ${OTHER_SK}` });
    expect(wrongToken.status).toBe(401);
  });

  test('the job list and /healthz answers are clean', async () => {
    const list = await call('GET', '/api/v1/jobs?limit=1000', bearer);
    expect(list.status).toBe(200);
    expect((list.json!.jobs as Job[]).length).toBeGreaterThanOrEqual(4);
    expect((await call('GET', '/healthz')).status).toBe(200);
  });

  test('no secret in any API answer, any log file, or the job store (database and WAL, running and closed)', async () => {
    // The search finds what it looks for (a control), and each value is long enough to be one.
    for (const [name, value] of Object.entries(SECRETS)) {
      expect(leaks(`x${value}x`)).toContain(name);
      expect(value.length).toBeGreaterThanOrEqual(16);
    }
    expect(answers.length).toBeGreaterThanOrEqual(10);
    const answerLeaks = answers.flatMap((a, i) => leaks(a).map((name) => `answer ${i}: ${name}`));
    expect(answerLeaks).toEqual([]);

    // While running: the WAL holds the recent writes.
    const live = await leaksIn([sut.dataDir]);
    expect(live.files.map((f) => f.replace(/^.*\//, '')).sort()).toEqual(
      expect.arrayContaining(['jobs.sqlite', 'jobs.sqlite-wal']),
    );
    expect(live.found).toEqual([]);

    await sut.running.close(0);
    const closed = await leaksIn([sut.logDir, sut.dataDir]);
    expect(closed.found).toEqual([]);
    const names = closed.files.map((f) => f.replace(/^.*\//, ''));
    expect(names).toEqual(
      expect.arrayContaining(['running.log', 'proj-running.log', 'proj-success.log', 'jobs.sqlite']),
    );
    // The logs really hold the sync, so the search above had something to search.
    const success = await readFile(join(sut.logDir, 'proj-success.log'), 'utf8');
    expect(success).toMatch(/manual-ns\/app:v1/);
    expect(success).toMatch(/mirror\/multi:m1/);
  });
});

describe('start-up warnings and the secret comparison', () => {
  test('without ApiToken and WebhookAuthHeader the service warns that the API is open', async () => {
    let log = '';
    await until(
      'both start-up warnings in the log',
      async () => {
        log = await readFile(join(open.logDir, 'running.log'), 'utf8').catch(() => '');
        return /ApiToken is not set/.test(log) && /WebhookAuthHeader is not set/.test(log) ? true : undefined;
      },
      5_000,
      50,
    ).catch(() => undefined);
    expect(log).toMatch(/WARN ApiToken is not set: the sync API and the manual sync call are open to anyone/);
    expect(log).toMatch(/WARN WebhookAuthHeader is not set: anyone who can reach this port can post webhooks/);
    expect(leaks(log)).toEqual([]);
  });

  test('a service with both secrets set does not warn about an open API', async () => {
    const log = await readFile(join(sut.logDir, 'running.log'), 'utf8');
    expect(log).not.toMatch(/ApiToken is not set/);
    expect(log).not.toMatch(/WebhookAuthHeader is not set/);
  });

  test('sameSecret accepts exactly the expected value', () => {
    const expected = 'Bearer token-value-0123456789';
    expect(sameSecret(expected, expected)).toBe(true);
    expect(sameSecret(`${expected}`.slice(0), expected)).toBe(true);
    for (let n = 0; n < expected.length; n++) expect(sameSecret(expected.slice(0, n), expected)).toBe(false);
    for (const longer of [`${expected}0`, `${expected} `, `${expected}\0`, `${expected}${expected}`])
      expect(sameSecret(longer, expected)).toBe(false);
    expect(sameSecret(undefined, expected)).toBe(false);
    expect(sameSecret(expected.toLowerCase(), expected)).toBe(false);
    expect(sameSecret(` ${expected}`, expected)).toBe(false);
    expect(sameSecret(expected.replace(/.$/, '8'), expected)).toBe(false);
    // The empty secret matches only the empty string, never a missing header.
    expect(sameSecret('', '')).toBe(true);
    expect(sameSecret(undefined, '')).toBe(false);
    expect(sameSecret('x', '')).toBe(false);
    // Non-ASCII values compare by their bytes.
    expect(sameSecret('pässword-ü', 'pässword-ü')).toBe(true);
    expect(sameSecret('pässword-u', 'pässword-ü')).toBe(false);
  });
});
