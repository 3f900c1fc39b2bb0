// Harbor 1.10 (the old tool's own set-up) as the source, end to end through the real service: API v1 under
// /api/, a Bearer-only /v2/, no /api/v2.0, and an external URL under another host name than HarborAddr.
// The registry envelope, the manual call over a project of more than 100 repositories (paging), the
// reconcile sweep, /readyz and check-config all work, and the stand-in answers as Harbor 1.10 does.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import pLimit from 'p-limit';
import { HarborClient } from '../../src/harbor/client.js';
import { detectHarbor } from '../../src/harbor/detect.js';
import { SelectedSource } from '../../src/harbor/selected-source.js';
import { V1Source } from '../../src/harbor/v1-source.js';
import { RegistryClient } from '../../src/oci/index.js';
import { runCli } from '../harness/cli.js';
import { distributionEnvelope, startHarbor, type HarborStandIn } from '../harness/harbor/index.js';
import { assertImageComplete, getManifest, listTags, pushImage, type PushedImage } from '../harness/images.js';
import { startRegistry, type RunningRegistry } from '../harness/registry.js';
import { startServiceUnderTest, waitForJobs, type ServiceUnderTest } from '../harness/service.js';
import { until } from '../harness/until.js';
import { appConfText } from '../harness/app-conf.js';

const BIG = 105;
let harbor: HarborStandIn;
let dst: RunningRegistry;
let sut: ServiceUnderTest;
let app: PushedImage;

beforeAll(async () => {
  [harbor, dst] = await Promise.all([
    startHarbor({
      version: '1.10',
      externalHost: 'localhost',
      projects: [
        { name: 'proj', public: false },
        { name: 'proj2', public: true },
        { name: 'big', public: false },
      ],
    }),
    startRegistry(),
  ]);
  app = await pushImage(harbor.access, 'proj/app', 'v1', {
    format: 'docker',
    layers: [{ seed: 'v1-app', size: 20_000 }],
  });
  await pushImage(harbor.access, 'proj2/other', 'v1', {
    format: 'docker',
    layers: [{ seed: 'v1-other', size: 5_000 }],
  });
  // The big project is filled straight into the backing registry: Harbor 1.x lists what its registry holds.
  const limit = pLimit(8);
  await Promise.all(
    Array.from({ length: BIG }, (_, i) =>
      limit(() =>
        pushImage(harbor.registry, `big/r${String(i).padStart(3, '0')}`, 'v1', {
          format: 'docker',
          layers: [{ seed: 'v1-big', size: 1_000 }],
        }),
      ),
    ),
  );
  sut = await startServiceUnderTest(harbor.host, dst.host, { NamespaceMap: 'proj:mirror;big:big-ns' });
}, 120_000);

afterAll(async () => {
  await sut?.stop();
  await Promise.all([harbor?.stop(), dst?.stop()]);
});

async function get(path: string, headers: Record<string, string> = {}) {
  const res = await fetch(harbor.url + path, { headers });
  return {
    status: res.status,
    type: res.headers.get('content-type') ?? '',
    link: res.headers.get('link'),
    total: res.headers.get('x-total-count'),
    challenge: res.headers.get('www-authenticate'),
    text: await res.text(),
  };
}
const ADMIN = { authorization: `Basic ${Buffer.from('admin:Harbor12345').toString('base64')}` };

describe('the stand-in answers as Harbor 1.10', () => {
  test('/api/v2.0 is a plain-text 404; /api/systeminfo names v1.10 and the external URL', async () => {
    const v2 = await get('/api/v2.0/systeminfo', ADMIN);
    expect([v2.status, v2.type, v2.text]).toEqual([404, 'text/plain; charset=utf-8', '404 page not found\n']);
    const info = JSON.parse((await get('/api/systeminfo', ADMIN)).text);
    expect(info.harbor_version).toMatch(/^v1\.10\.\d+-/);
    expect(info.external_url).toMatch(/^http:\/\/localhost:\d+$/);
  });

  test('/v2/ challenges Basic credentials again with a Bearer realm on /service/token', async () => {
    const res = await get('/v2/proj/app/manifests/v1', ADMIN);
    expect(res.status).toBe(401);
    expect(res.challenge).toMatch(
      /^Bearer realm="http:\/\/localhost:\d+\/service\/token",service="harbor-registry",scope="repository:proj\/app:pull"$/,
    );
  });

  test('projects by a substring name filter with public as a string; repositories paged with X-Total-Count and Link', async () => {
    const projects = JSON.parse((await get('/api/projects?name=proj', ADMIN)).text) as Array<{
      name: string;
      metadata: { public: string };
    }>;
    expect(projects.map((p) => [p.name, p.metadata.public])).toEqual([
      ['proj', 'false'],
      ['proj2', 'true'],
    ]);
    const id = JSON.parse((await get('/api/projects?name=big', ADMIN)).text)[0].project_id;
    const page = await get(`/api/repositories?project_id=${id}&page=1&page_size=100`, ADMIN);
    expect(page.total).toBe(String(BIG));
    expect(page.link).toBe(`</api/repositories?page=2&page_size=100&project_id=${id}>; rel="next"`);
    expect(JSON.parse(page.text)[0].name).toBe('big/r000');
    const missing = await get('/api/repositories/proj/app/tags/nope', ADMIN);
    expect([missing.status, missing.type, missing.text]).toEqual([
      404,
      'text/plain; charset=utf-8',
      '{"code":404,"message":"resource: proj/app:nope not found"}\n',
    ]);
  });
});

test('detection says API v1 with the version and the external URL; the v1 source matches project names exactly', async () => {
  const client = new HarborClient({
    address: harbor.host,
    protocol: 'http',
    username: 'admin',
    password: 'Harbor12345',
  });
  try {
    expect(await detectHarbor(client)).toEqual({
      api: 'v1',
      version: expect.stringMatching(/^v1\.10\./),
      externalUrl: expect.stringMatching(/^http:\/\/localhost:\d+$/),
    });
    const source = new V1Source(client, () => undefined);
    expect(await source.getProject('proj')).toMatchObject({ name: 'proj', public: false });
    expect(await source.getProject('pro')).toBeUndefined();
    expect((await source.listRepositories('big')).length).toBe(BIG);
    expect(await source.getArtifact('proj', 'app', app.digest)).toEqual({
      digest: app.digest,
      mediaType: '',
      tags: ['v1'],
      children: [],
    });
  } finally {
    await client.close();
  }
});

test("the source registry client's token realm hosts get the host of Harbor's external URL once detection ran", async () => {
  const client = new HarborClient({
    address: harbor.host,
    protocol: 'http',
    username: 'admin',
    password: 'Harbor12345',
  });
  const registry = new RegistryClient({ host: harbor.host, insecure: true });
  const realmHosts: string[] = [];
  try {
    const selected = new SelectedSource(client, 'auto', registry, { realmHosts });
    expect(realmHosts).toEqual([]);
    await selected.info();
    expect(realmHosts).toEqual([`localhost:${harbor.host.split(':')[1]}`]);
  } finally {
    await Promise.all([client.close(), registry.close()]);
  }
});

test("the old tool's registry envelope syncs the pushed image through the Bearer-only /v2/", async () => {
  const envelope = distributionEnvelope(
    [
      {
        action: 'push',
        repository: 'proj/app',
        digest: app.digest,
        tag: 'v1',
        mediaType: app.mediaType,
        size: app.size,
      },
    ],
    'v1',
  );
  const answer = await fetch(`${sut.url}/service/notifications`, {
    method: 'POST',
    headers: { 'content-type': envelope.contentType },
    body: envelope.body,
  });
  expect(answer.status).toBe(200);
  const jobs = await waitForJobs(sut.url, 'proj', (all) =>
    all.some((j) => j.spec.kind === 'image' && j.state !== 'queued' && j.state !== 'running'),
  );
  expect(jobs[0]).toMatchObject({ state: 'succeeded' });
  expect((await getManifest(dst, 'mirror/app', 'v1'))?.digest).toBe(app.digest);
  await assertImageComplete(dst, 'mirror/app', 'v1');
});

test('/readyz names Harbor 1.10 and API v1', async () => {
  const body = (await (await fetch(`${sut.url}/readyz`)).json()) as {
    checks: Record<string, { ok: boolean; message: string }>;
  };
  expect(body.checks.harbor).toEqual({
    ok: true,
    message: expect.stringMatching(
      /answered \d+ s ago; Harbor v1\.10\.\d+-\w+ \(API v1\) answers at http:\/\/127\.0\.0\.1:\d+$/,
    ),
  });
});

test(`the manual call with headers syncs a project of ${BIG} repositories (two pages of the v1 list)`, async () => {
  const res = await fetch(`${sut.url}/service/synchronization/namespace`, {
    method: 'POST',
    headers: { Projectname: 'big', Namespace: 'big-ns', RegionName: 'cn-north-4' },
  });
  expect(res.status).toBe(202);
  const jobs = await waitForJobs(
    sut.url,
    'big',
    (all) => all.some((j) => j.state !== 'queued' && j.state !== 'running'),
    90_000,
  );
  expect(jobs[0].state).toBe('succeeded');
  expect(jobs[0].results.filter((r) => r.status === 'copied')).toHaveLength(BIG);
  expect(await listTags(dst, 'big-ns/r104')).toEqual(['v1']);
  expect(harbor.requests.some((r) => /^\/api\/repositories\?page=2&page_size=100&project_id=\d+$/.test(r.path))).toBe(
    true,
  );
}, 120_000);

test('the reconcile sweep finds a tag added in Harbor 1.10 without any event and queues it', async () => {
  await harbor.addTag('proj/app', app.digest, 'v1-promoted');
  const summary = await sut.running.reconcile();
  expect(summary).toMatchObject({ errors: 0, queued: 1 });
  await waitForJobs(sut.url, 'proj', (all) =>
    all.some((j) => j.spec.kind === 'image' && j.spec.tags.includes('v1-promoted') && j.state === 'succeeded'),
  );
  expect((await listTags(dst, 'mirror/app')).sort()).toEqual(['v1', 'v1-promoted']);
}, 60_000);

test('the sync command copies a project from Harbor 1.10 into another namespace', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'swr-harbor-sync-v1-cli-'));
  try {
    const file = join(dir, 'app.conf');
    await writeFile(
      file,
      appConfText({ ...sut.raw, NamespaceMap: 'proj:cli-ns', LogDir: join(dir, 'logs'), DataDir: join(dir, 'data') }),
    );
    const run = await runCli(['sync', '--project', 'proj'], {
      CONFIG_FILE: file,
      PATH: process.env.PATH ?? '/usr/bin:/bin',
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^copied  ${dst.host}/cli-ns/app:v1 `, 'm'));
    expect((await getManifest(dst, 'cli-ns/app', 'v1'))?.digest).toBe(app.digest);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('check-config names Harbor 1.10 (API v1) and finds the mapped projects', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'swr-harbor-sync-v1-'));
  try {
    const file = join(dir, 'app.conf');
    await writeFile(
      file,
      appConfText({
        ...sut.raw,
        NamespaceMap: 'proj:mirror;ghost:later',
        LogDir: join(dir, 'logs'),
        DataDir: join(dir, 'data'),
      }),
    );
    const run = await runCli(['check-config'], { CONFIG_FILE: file });
    expect(run.stdout).toMatch(/^ok +Harbor at http:\/\/127\.0\.0\.1:\d+: Harbor v1\.10\.\d+-\w+ \(API v1\)$/m);
    expect(run.stdout).toMatch(/^ok +Harbor project proj: private, readable$/m);
    expect(run.stdout).toMatch(/^FAIL Harbor project ghost: .*no project "ghost": fix NamespaceMap$/m);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a Harbor 1.10 project webhook (pushImage) syncs the pushed image end to end', async () => {
  const [project] = (await (await fetch(`${harbor.url}/api/projects?name=proj`, { headers: ADMIN })).json()) as Array<{
    project_id: number;
    name: string;
  }>;
  expect(project?.name).toBe('proj');
  const created = await fetch(`${harbor.url}/api/projects/${project.project_id}/webhook/policies`, {
    method: 'POST',
    headers: { ...ADMIN, 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'to-sync',
      enabled: true,
      event_types: ['pushImage'],
      targets: [{ type: 'http', address: `${sut.url}/service/notifications`, skip_cert_verify: false }],
    }),
  });
  expect(created.status).toBe(201);
  const hooked = await pushImage(harbor.access, 'proj/hooked', 'v3', {
    format: 'docker',
    layers: [{ seed: 'v1-hooked', size: 8_000 }],
  });
  const delivery = await until('the pushImage delivery', async () =>
    harbor.webhookDeliveries.find((d) => d.repository === 'proj/hooked' && d.status !== 0),
  );
  expect(delivery).toMatchObject({ eventType: 'pushImage', tag: 'v3', status: 200 });
  await waitForJobs(sut.url, 'proj', (all) =>
    all.some((j) => j.spec.kind === 'image' && j.spec.repository === 'hooked' && j.state === 'succeeded'),
  );
  expect((await getManifest(dst, 'mirror/hooked', 'v3'))?.digest).toBe(hooked.digest);
  await assertImageComplete(dst, 'mirror/hooked', 'v3');
});
