// register-webhook: the built command against the Harbor stand-in creates the project's PUSH_ARTIFACT policy,
// then only updates it in place (or leaves it), never touches other policies, fails per project with the reason,
// and never prints a secret; end to end, the registered policy makes the stand-in deliver a push to the running
// service, which copies the image. First, the stand-in's policy API is held to Harbor's answers.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { runCli, type CliRun } from '../harness/cli.js';
import { startHarbor, type HarborStandIn, type WebhookPolicyJson } from '../harness/harbor/index.js';
import { getManifest, pushImage } from '../harness/images.js';
import { startRegistry, type RunningRegistry } from '../harness/registry.js';
import { startServiceUnderTest, waitForJobs, type ServiceUnderTest } from '../harness/service.js';
import { until } from '../harness/until.js';
import { appConfText } from '../harness/app-conf.js';

const PASSWORD = 'Harbor12345';
const HEADER = 'Bearer register-webhook-secret-4711';
const URL_A = 'http://sync-a.example.internal:5000/service/notifications';
const URL_B_BASE = 'http://sync-b.example.internal:5000';
const URL_B = `${URL_B_BASE}/service/notifications`;
const USERS = [
  { username: 'keeper', password: 'keeper-password-1', roles: { proj: 'maintainer' as const } },
  { username: 'owner', password: 'owner-password-1', roles: { proj: 'projectAdmin' as const } },
];

let harbor: HarborStandIn;
let dir: string;
let confCount = 0;

beforeAll(async () => {
  harbor = await startHarbor({
    projects: [
      { name: 'proj', public: false },
      { name: 'pub', public: true },
      { name: 'handmade', public: false },
      { name: 'api', public: false },
      { name: 'deletes', public: false },
    ],
    users: USERS,
  });
  dir = await mkdtemp(join(tmpdir(), 'swr-harbor-sync-register-'));
}, 60_000);

afterAll(async () => {
  await harbor?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

const ADMIN = basic('admin', PASSWORD);

async function api(method: string, path: string, body?: unknown, authorization: string | null = ADMIN) {
  const res = await fetch(`${harbor.url}/api/v2.0${path}`, {
    method,
    headers: {
      ...(authorization ? { authorization } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
}

function baseConf(extra: Record<string, string>): Record<string, string> {
  return {
    HWAuthMethod: 'AKSK',
    HWAK: 'REGISTERWEBHOOKAK001',
    HWSK: 'register-webhook-secret-key-0123',
    RegionName: 'cn-north-4',
    HarborAddr: harbor.host,
    HarborProtocol: 'http',
    HarborUser: 'admin',
    HarborPassword: PASSWORD,
    NamespaceMap: 'proj:mirror;pub:public-ns',
    WebhookAuthHeader: HEADER,
    LogDir: join(dir, 'logs'),
    DataDir: join(dir, 'data'),
    ...extra,
  };
}

async function writeConf(values: Record<string, string>): Promise<string> {
  const file = join(dir, `app-${++confCount}.conf`);
  await writeFile(file, appConfText(values));
  return file;
}

async function register(args: string[], extra: Record<string, string> = {}): Promise<CliRun> {
  return runCli(['register-webhook', ...args], { CONFIG_FILE: await writeConf(baseConf(extra)) });
}

function expectNoSecrets(run: CliRun, ...more: string[]): void {
  for (const secret of [HEADER, PASSWORD, 'register-webhook-secret', ...USERS.map((u) => u.password), ...more]) {
    expect(run.stdout + run.stderr).not.toContain(secret);
  }
}

function ours(project: string): WebhookPolicyJson[] {
  return harbor.webhookPolicies(project).filter((p) => p.name === `swr-harbor-sync-${project}`);
}

describe('the stand-in answers the webhook policy API as Harbor does', () => {
  const policy = {
    name: 'p1',
    description: 'd',
    enabled: true,
    event_types: ['PUSH_ARTIFACT'],
    targets: [
      {
        type: 'http',
        address: ' http://hook.example:8080/path/?q=1#f ',
        auth_header: 'Basic xyz',
        skip_cert_verify: true,
      },
    ],
  };

  test("create is 201 with Location; the list shows Harbor's shape with the address as Harbor stores it", async () => {
    const created = await api('POST', '/projects/api/webhook/policies', policy);
    expect(created.status).toBe(201);
    const location = created.headers.get('location')!;
    expect(location).toMatch(/^\/api\/v2\.0\/projects\/api\/webhook\/policies\/\d+$/);
    const list = await api('GET', '/projects/api/webhook/policies');
    expect(list.status).toBe(200);
    expect(list.headers.get('x-total-count')).toBe('1');
    const [item] = list.json() as WebhookPolicyJson[];
    expect(item).toMatchObject({
      id: Number(location.split('/').pop()),
      name: 'p1',
      description: 'd',
      enabled: true,
      event_types: ['PUSH_ARTIFACT'],
      creator: 'admin',
      project_id: expect.any(Number),
    });
    // Harbor trims blanks and trailing slashes of the whole string, then keeps scheme://host+path (no query or fragment).
    expect(item.targets).toEqual([
      {
        type: 'http',
        address: 'http://hook.example:8080/path/',
        auth_header: 'Basic xyz',
        skip_cert_verify: true,
        payload_format: 'Default',
      },
    ]);
    const one = await api('GET', location.replace('/api/v2.0', ''));
    expect(one.json()).toEqual(item);
  });

  test('names are unique per project (409), not across projects; an omitted "enabled" is false', async () => {
    const again = await api('POST', '/projects/api/webhook/policies', policy);
    expect(again.status).toBe(409);
    expect(again.json()).toEqual({
      errors: [{ code: 'CONFLICT', message: 'notification policy named p1 already exists' }],
    });
    const elsewhere = await api('POST', '/projects/handmade/webhook/policies', { ...policy, enabled: undefined });
    expect(elsewhere.status).toBe(201);
    const [stored] = harbor.webhookPolicies('handmade');
    expect(stored.enabled).toBe(false);
    expect((await api('DELETE', elsewhere.headers.get('location')!.replace('/api/v2.0', ''))).status).toBe(200);
    expect(harbor.webhookPolicies('handmade')).toEqual([]);
  });

  test.each([
    [{ ...policy, name: 'x1', event_types: [] }, 'empty event type'],
    [{ ...policy, name: 'x2', event_types: ['PUSH_IMAGE'] }, 'unsupported event type PUSH_IMAGE'],
    [{ ...policy, name: 'x3', targets: [] }, 'empty notification target with policy x3'],
    [{ ...policy, name: 'x4', targets: [{ type: 'http', address: 'ftp://hook.example' }] }, 'invalid scheme: ftp'],
    [
      { ...policy, name: 'x5', targets: [{ type: 'email', address: 'http://hook.example' }] },
      'unsupported target type email with policy x5',
    ],
    [{ ...policy, name: 7 }, /cannot unmarshal number into Go struct field WebhookPolicy.name of type string/],
    ['{not json', /parsing policy body/],
  ])('an invalid body is 400 BAD_REQUEST: %j', async (body, message) => {
    const res = await api('POST', '/projects/api/webhook/policies', body);
    expect(res.status).toBe(400);
    expect(res.json().errors[0].code).toBe('BAD_REQUEST');
    expect(res.json().errors[0].message).toMatch(message);
    expect(harbor.webhookPolicies('api')).toHaveLength(1);
  });

  test('401 without or with wrong credentials; 404 to the admin for an unknown project, 403 to a member', async () => {
    expect((await api('GET', '/projects/api/webhook/policies', undefined, null)).status).toBe(401);
    expect((await api('POST', '/projects/api/webhook/policies', policy, basic('admin', 'wrong'))).status).toBe(401);
    const missing = await api('GET', '/projects/ghost/webhook/policies');
    expect(missing.status).toBe(404);
    expect(missing.json()).toEqual({ errors: [{ code: 'NOT_FOUND', message: 'project ghost not found' }] });
    expect(
      (await api('GET', '/projects/ghost/webhook/policies', undefined, basic('owner', 'owner-password-1'))).status,
    ).toBe(403);
  });

  test('a maintainer may list but not create or update; a project admin may; another project is 403 to both', async () => {
    const keeper = basic('keeper', 'keeper-password-1');
    const owner = basic('owner', 'owner-password-1');
    expect((await api('GET', '/projects/proj/webhook/policies', undefined, keeper)).status).toBe(200);
    const denied = await api('POST', '/projects/proj/webhook/policies', { ...policy, name: 'by-keeper' }, keeper);
    expect(denied.status).toBe(403);
    expect(denied.json()).toEqual({ errors: [{ code: 'FORBIDDEN', message: 'forbidden' }] });
    expect((await api('GET', '/projects/api/webhook/policies', undefined, owner)).status).toBe(403);
    const created = await api('POST', '/projects/proj/webhook/policies', { ...policy, name: 'by-owner' }, owner);
    expect(created.status).toBe(201);
    expect(harbor.webhookPolicies('proj')).toEqual([expect.objectContaining({ name: 'by-owner', creator: 'owner' })]);
    expect(
      (await api('DELETE', created.headers.get('location')!.replace('/api/v2.0', ''), undefined, owner)).status,
    ).toBe(200);
  });

  test('PUT replaces in place; an unknown id, or one of another project, is 404; a taken name 409', async () => {
    const [p1] = harbor.webhookPolicies('api');
    const second = await api('POST', '/projects/api/webhook/policies', { ...policy, name: 'p2' });
    const p2Id = Number(second.headers.get('location')!.split('/').pop());
    const put = await api('PUT', `/projects/api/webhook/policies/${p1.id}`, {
      ...policy,
      name: 'p1',
      event_types: ['PUSH_ARTIFACT', 'DELETE_ARTIFACT'],
    });
    expect(put.status).toBe(200);
    expect(harbor.webhookPolicies('api').find((p) => p.id === p1.id)).toMatchObject({
      event_types: ['PUSH_ARTIFACT', 'DELETE_ARTIFACT'],
      creation_time: p1.creation_time,
    });
    expect((await api('PUT', `/projects/api/webhook/policies/${p2Id}`, { ...policy, name: 'p1' })).status).toBe(409);
    expect((await api('PUT', '/projects/api/webhook/policies/9999', policy)).status).toBe(404);
    expect((await api('PUT', `/projects/handmade/webhook/policies/${p1.id}`, policy)).status).toBe(404);
    // Paged like every Harbor list: newest first.
    const page = await api('GET', '/projects/api/webhook/policies?page=1&page_size=1');
    expect(page.json().map((p: WebhookPolicyJson) => p.name)).toEqual(['p2']);
    expect(page.headers.get('link')).toBe('</api/v2.0/projects/api/webhook/policies?page=2&page_size=1>; rel="next"');
  });
});

describe('register-webhook', () => {
  let unrelated: WebhookPolicyJson;

  beforeAll(async () => {
    const res = await api('POST', '/projects/proj/webhook/policies', {
      name: 'ci-hook',
      description: 'CI',
      enabled: true,
      event_types: ['PULL_ARTIFACT'],
      targets: [{ type: 'http', address: 'http://ci.example.internal/hook' }],
    });
    expect(res.status).toBe(201);
    unrelated = harbor.webhookPolicies('proj').find((p) => p.name === 'ci-hook')!;
  });

  test("creates the project's PUSH_ARTIFACT policy with the configured auth header", async () => {
    const run = await register(['--project', 'proj', '--url', URL_A]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      new RegExp(
        `^created +proj: webhook policy "swr-harbor-sync-proj" \\(id \\d+\\), PUSH_ARTIFACT -> ${URL_A}, with auth header\\n$`,
      ),
    );
    expect(ours('proj')).toEqual([
      expect.objectContaining({
        enabled: true,
        event_types: ['PUSH_ARTIFACT'],
        targets: [{ type: 'http', address: URL_A, auth_header: HEADER, payload_format: 'Default' }],
      }),
    ]);
    expectNoSecrets(run);
  });

  test('a second run changes nothing and says unchanged; the unrelated policy is untouched', async () => {
    const before = ours('proj');
    const writes = () =>
      harbor.requests.filter((r) => r.method !== 'GET' && r.path.startsWith('/api/v2.0/projects/proj/webhook')).length;
    const writesBefore = writes();
    const run = await register(['--project', 'proj', '--url', URL_A]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^unchanged +proj: webhook policy "swr-harbor-sync-proj" \(id \d+\)/);
    expect(ours('proj')).toEqual(before);
    expect(writes()).toBe(writesBefore);
    expect(harbor.webhookPolicies('proj')).toHaveLength(2);
    expect(harbor.webhookPolicies('proj').find((p) => p.name === 'ci-hook')).toEqual(unrelated);
    expectNoSecrets(run);
  });

  test('--dry-run says what would change and changes nothing', async () => {
    const before = harbor.webhookPolicies();
    const run = await register(['--project', 'proj', '--project', 'pub', '--url', URL_B, '--dry-run']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /^would update +proj: webhook policy "swr-harbor-sync-proj" \(id \d+\), changed: address;/m,
    );
    expect(run.stdout).toMatch(
      new RegExp(`^would create +pub: webhook policy "swr-harbor-sync-pub", PUSH_ARTIFACT -> ${URL_B}`, 'm'),
    );
    expect(harbor.webhookPolicies()).toEqual(before);
  });

  test('a new URL (a bare base gets /service/notifications) updates the same policy in place', async () => {
    const [before] = ours('proj');
    const run = await register(['--project', 'proj', '--url', URL_B_BASE]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      new RegExp(
        `^updated +proj: webhook policy "swr-harbor-sync-proj" \\(id ${before.id}\\), changed: address; PUSH_ARTIFACT -> ${URL_B}`,
      ),
    );
    expect(ours('proj')).toEqual([
      expect.objectContaining({
        id: before.id,
        targets: [expect.objectContaining({ address: URL_B, auth_header: HEADER })],
      }),
    ]);
    expect(harbor.webhookPolicies('proj')).toHaveLength(2);
    expect(harbor.webhookPolicies('proj').find((p) => p.name === 'ci-hook')).toEqual(unrelated);
  });

  test('--all-mapped covers every project in NamespaceMap, one line each', async () => {
    const run = await register(['--all-mapped', '--url', URL_B]);
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^unchanged +proj: /);
    expect(lines[1]).toMatch(/^created +pub: webhook policy "swr-harbor-sync-pub"/);
    expect(ours('pub')).toEqual([
      expect.objectContaining({
        enabled: true,
        event_types: ['PUSH_ARTIFACT'],
        targets: [expect.objectContaining({ address: URL_B, auth_header: HEADER })],
      }),
    ]);
    expect(harbor.webhookPolicies('handmade')).toEqual([]);
  });

  test('a hand-made policy to the same address is adopted: renamed, enabled, PUSH_ARTIFACT added, its other events kept', async () => {
    const made = await api('POST', '/projects/handmade/webhook/policies', {
      name: 'to-swr',
      enabled: false,
      event_types: ['DELETE_ARTIFACT'],
      targets: [{ type: 'http', address: `${URL_B}/` }],
    });
    expect(made.status).toBe(201);
    expect(harbor.webhookPolicies('handmade')[0].targets[0].address).toBe(URL_B);
    const run = await register(['--project', 'handmade', '--url', URL_B]);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/warning: project "handmade" is not in NamespaceMap/);
    expect(run.stdout).toMatch(
      /^updated +handmade: webhook policy "swr-harbor-sync-handmade" \(id \d+\), changed: name \(was "to-swr"\), enabled, event types, auth header;/,
    );
    expect(harbor.webhookPolicies('handmade')).toEqual([
      expect.objectContaining({
        name: 'swr-harbor-sync-handmade',
        enabled: true,
        event_types: ['DELETE_ARTIFACT', 'PUSH_ARTIFACT'],
        targets: [expect.objectContaining({ address: URL_B, auth_header: HEADER })],
      }),
    ]);
  });

  test('--auth-header overrides WebhookAuthHeader, warns that they differ, and is never printed', async () => {
    const other = 'Bearer some-other-header-value';
    const run = await register(['--project', 'pub', '--url', URL_B, '--auth-header', other]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^updated +pub: .*changed: auth header;/);
    expect(run.stderr).toMatch(/--auth-header differs from WebhookAuthHeader/);
    expect(ours('pub')[0].targets[0].auth_header).toBe(other);
    expectNoSecrets(run, other, 'some-other-header');
    const back = await register(['--project', 'pub', '--url', URL_B]);
    expect(back.stdout).toMatch(/^updated +pub: .*changed: auth header;/);
  });

  test('a wrong Harbor password fails with exit 1, names the project and the credentials, and prints no password', async () => {
    const before = harbor.webhookPolicies();
    const run = await register(['--project', 'proj', '--url', URL_B], { HarborPassword: 'not-the-password-42' });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /^failed +project "proj": Harbor refused the credentials of user "admin" \(401\): check HarborUser and HarborPassword$/m,
    );
    expectNoSecrets(run, 'not-the-password-42');
    expect(harbor.webhookPolicies()).toEqual(before);
  });

  test('a Harbor user who is not project admin fails with 403 and says which role is needed; a project admin succeeds', async () => {
    const denied = await register(['--project', 'proj', '--url', URL_A], {
      HarborUser: 'keeper',
      HarborPassword: 'keeper-password-1',
    });
    expect(denied.code).toBe(1);
    expect(denied.stdout).toMatch(
      /^failed +project "proj": Harbor user "keeper" may not update webhook policy \d+ of the project \(403\): webhooks need the Project Admin role/m,
    );
    expect(ours('proj')[0].targets[0].address).toBe(URL_B);
    const allowed = await register(['--project', 'proj', '--url', URL_B], {
      HarborUser: 'owner',
      HarborPassword: 'owner-password-1',
    });
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toMatch(/^unchanged +proj: /);
    expectNoSecrets(denied);
    expectNoSecrets(allowed);
  });

  test('an unknown project fails with exit 1 naming it; the other projects are still done', async () => {
    const run = await register(['--project', 'ghost', '--project', 'proj', '--url', URL_B]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/warning: project "ghost" is not in NamespaceMap/);
    expect(run.stdout).toMatch(/^failed +project "ghost": Harbor has no project "ghost" \(404\)/m);
    expect(run.stdout).toMatch(/^unchanged +proj: /m);
  });

  test.each([
    [
      ['--project', 'proj', '--url', 'ftp://sync.example/service/notifications'],
      /--url must be an absolute http:\/\/ or https:\/\/ URL/,
    ],
    [
      ['--project', 'proj', '--url', 'sync.example:5000/service/notifications'],
      /--url must be an absolute http:\/\/ or https:\/\/ URL/,
    ],
    [
      ['--project', 'proj', '--url', 'http://sync.example:5000/service/notifications?x=1'],
      /must not have a query or fragment/,
    ],
    [['--project', 'proj', '--url', 'http://user:pw@sync.example:5000/'], /must not carry a user or password/],
    [['--project', 'proj'], /--url is required/],
    [['--url', URL_B], /--project P .* or use --all-mapped/],
    [['--project', 'Bad_Name', '--url', URL_B], /--project "Bad_Name" is not a Harbor project name/],
    [['--project', 'proj', '--url', URL_B, '--no-such-flag'], /unknown option/],
  ])('bad usage %j exits 2 with the reason and calls nothing', async (args, message) => {
    const calls = harbor.requests.length;
    const run = await register(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(harbor.requests.length).toBe(calls);
  });

  test('with SyncDeletes=true the policy also delivers DELETE_ARTIFACT: added to a push-only policy, kept after', async () => {
    const first = await register(['--project', 'deletes', '--url', URL_A]);
    expect(first.code).toBe(0);
    expect(ours('deletes')[0].event_types).toEqual(['PUSH_ARTIFACT']);
    const run = await register(['--project', 'deletes', '--url', URL_A], { SyncDeletes: 'true' });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      new RegExp(
        `^updated +deletes: webhook policy "swr-harbor-sync-deletes" \\(id \\d+\\), changed: event types; PUSH_ARTIFACT, DELETE_ARTIFACT -> ${URL_A}`,
        'm',
      ),
    );
    expect(ours('deletes')[0].event_types).toEqual(['PUSH_ARTIFACT', 'DELETE_ARTIFACT']);
    // Without SyncDeletes nothing is taken away: someone chose it.
    const again = await register(['--project', 'deletes', '--url', URL_A]);
    expect(again.stdout).toMatch(/^unchanged +deletes:/m);
    expect(ours('deletes')[0].event_types).toEqual(['PUSH_ARTIFACT', 'DELETE_ARTIFACT']);
  });

  test('an invalid configuration exits 2 listing the problem, without secrets', async () => {
    const run = await register(['--project', 'proj', '--url', URL_B], { HarborAddr: 'http://harbor.example' });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/error: configuration: HarborAddr must be a host name/);
    expectNoSecrets(run);
  });
});

describe('end to end: the registered policy delivers a push to the running service', () => {
  let dst: RunningRegistry;
  let sut: ServiceUnderTest;

  beforeAll(async () => {
    dst = await startRegistry();
    sut = await startServiceUnderTest(harbor.host, dst.host, { WebhookAuthHeader: HEADER });
  }, 60_000);

  afterAll(async () => {
    await sut?.stop();
    await dst?.stop();
  });

  test('a push to Harbor arrives at the destination with no call made by the test', async () => {
    const run = await runCli(['register-webhook', '--project', 'proj', '--url', sut.url], {
      CONFIG_FILE: await writeConf(sut.raw),
    });
    expect(run.code).toBe(0);
    const address = `${sut.url}/service/notifications`;
    // Updated after the tests above (created when this block runs alone).
    expect(run.stdout).toMatch(
      new RegExp(
        `^(updated +proj: webhook policy "swr-harbor-sync-proj" \\(id \\d+\\), changed: address;|created +proj: webhook policy "swr-harbor-sync-proj" \\(id \\d+\\),) PUSH_ARTIFACT -> ${address}, with auth header`,
      ),
    );
    expectNoSecrets(run);

    const image = await pushImage(harbor.access, 'proj/e2e/app', 'v1', {
      format: 'docker',
      layers: [{ seed: 'register-e2e', size: 40_000 }],
    });
    await waitForJobs(sut.url, 'proj', (jobs) =>
      jobs.some((j) => j.spec.kind === 'image' && j.spec.repository === 'e2e/app' && j.state === 'succeeded'),
    );
    expect((await getManifest(dst, 'mirror/e2e/app', 'v1'))?.digest).toBe(image.digest);

    // Harbor's delivery went to the registered address with the auth header the service demands (else 401).
    const deliveries = harbor.webhookDeliveries.filter((d) => d.repository === 'proj/e2e/app');
    expect(deliveries).toEqual([expect.objectContaining({ address, digest: image.digest, tag: 'v1', status: 200 })]);
    // Harbor retries a failed delivery; none of the attempts may have been refused for its auth header.
    expect(deliveries[0].history.filter((h) => h.status === 401)).toEqual([]);
    // The unrelated policy wants PULL_ARTIFACT only: nothing went to it.
    expect(harbor.webhookDeliveries.filter((d) => d.address === 'http://ci.example.internal/hook')).toEqual([]);
  });

  test("with a mismatched auth header Harbor's delivery is refused and nothing is copied", async () => {
    const run = await runCli(
      ['register-webhook', '--project', 'proj', '--url', sut.url, '--auth-header', 'Bearer wrong-header-value'],
      { CONFIG_FILE: await writeConf(sut.raw) },
    );
    expect(run.code).toBe(0);
    await pushImage(harbor.access, 'proj/e2e/refused', 'v1', {
      format: 'docker',
      layers: [{ seed: 'register-e2e-refused', size: 20_000 }],
    });
    await until(
      "Harbor's third refused delivery",
      async () =>
        harbor.webhookDeliveries.some((d) => d.repository === 'proj/e2e/refused' && d.attempts === 3)
          ? true
          : undefined,
      10_000,
      50,
    ).catch(() => undefined);
    expect(harbor.webhookDeliveries.filter((d) => d.repository === 'proj/e2e/refused')).toEqual([
      expect.objectContaining({ status: 401, attempts: 3 }),
    ]);
    expect(await getManifest(dst, 'mirror/e2e/refused', 'v1')).toBeUndefined();
  });
});
