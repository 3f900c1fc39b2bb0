// register-webhook on each Harbor version the stand-in plays: 1.10 (project ids, pushImage, one policy per
// project) end to end to a copied image; 2.0 (ids only, names unique across the instance) with --all-mapped over
// two projects; 2.3 renaming the policy an older version of this service named `swr-harbor-sync`; 1.8 and a plain
// registry (no policies: the registry endpoint is printed, exit 3); and Harbor's policy-list paging followed only
// on Harbor's own origin, never round in a circle. First the stand-in's 1.10 and 2.0 policy APIs are held to
// Harbor's answers (core/api/notification_policy.go at v1.10.19 and v2.0.6).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { runCli, type CliRun } from '../harness/cli.js';
import { startFaultProxy, type FaultProxy } from '../harness/fault-proxy.js';
import { startHarbor, type HarborOptions, type HarborStandIn } from '../harness/harbor/index.js';
import { getManifest, pushImage } from '../harness/images.js';
import { startRegistry } from '../harness/registry.js';
import { startServiceUnderTest, waitForJobs } from '../harness/service.js';
import type { HarborClient, HarborResponse } from '../../src/harbor/client.js';
import { harborPages } from '../../src/harbor/paging.js';

const PASSWORD = 'Harbor12345';
const HEADER = 'Bearer versions-secret-8152';
const URL_A = 'http://sync.example.internal:5000/service/notifications';
const ADMIN = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`;
const PROJECTS = [
  { name: 'proj', public: false },
  { name: 'pub', public: true },
];

let dir: string;
let confCount = 0;
const harbors: HarborStandIn[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'swr-harbor-sync-register-versions-'));
});

afterAll(async () => {
  await Promise.all(harbors.map((h) => h.stop()));
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function harborOf(version: NonNullable<HarborOptions['version']>): Promise<HarborStandIn> {
  const harbor = await startHarbor({ projects: PROJECTS, version });
  harbors.push(harbor);
  return harbor;
}

async function call(harbor: HarborStandIn, method: string, path: string, body?: unknown) {
  const res = await fetch(`${harbor.url}${path}`, {
    method,
    headers: { authorization: ADMIN, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
}

async function register(harborHost: string, args: string[], extra: Record<string, string> = {}): Promise<CliRun> {
  const conf = {
    HWAuthMethod: 'AKSK',
    HWAK: 'REGISTERVERSIONSAK01',
    HWSK: 'register-versions-secret-key-0123',
    RegionName: 'cn-north-4',
    HarborAddr: harborHost,
    HarborProtocol: 'http',
    HarborUser: 'admin',
    HarborPassword: PASSWORD,
    NamespaceMap: 'proj:mirror;pub:public-ns',
    WebhookAuthHeader: HEADER,
    LogDir: join(dir, 'logs'),
    DataDir: join(dir, 'data'),
    ...extra,
  };
  const file = join(dir, `app-${++confCount}.conf`);
  await writeFile(
    file,
    `${Object.entries(conf)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n')}\n`,
  );
  return runCli(['register-webhook', ...args], { CONFIG_FILE: file });
}

function expectNoSecrets(run: CliRun): void {
  for (const secret of [HEADER, PASSWORD, 'versions-secret']) expect(run.stdout + run.stderr).not.toContain(secret);
}

const target = { type: 'http', address: 'http://other.example.internal/hook', skip_cert_verify: false };

describe('Harbor 1.10', () => {
  let harbor: HarborStandIn;
  let projId: number;

  beforeAll(async () => {
    harbor = await harborOf('1.10');
    const found = await call(harbor, 'GET', '/api/projects?name=pro');
    projId = (found.json() as Array<{ project_id: number; name: string }>).find((p) => p.name === 'proj')!.project_id;
  });

  test("the stand-in answers 1.10's policy API: ids only, pushImage, one policy per project (500), v1 error bodies, no paging", async () => {
    expect((await call(harbor, 'GET', '/api/systeminfo')).json()).toMatchObject({
      harbor_version: expect.stringMatching(/^v1\.10\./),
    });
    expect((await call(harbor, 'GET', '/api/projects/proj/webhook/policies')).status).toBe(404);
    const path = `/api/projects/${projId}/webhook/policies`;
    expect(
      await call(harbor, 'POST', path, { name: 'x', enabled: true, event_types: ['PUSH_ARTIFACT'], targets: [target] }),
    ).toMatchObject({ status: 400, text: '{"code":400,"message":"unsupported event type PUSH_ARTIFACT"}\n' });
    const made = await call(harbor, 'POST', path, {
      name: 'first',
      enabled: true,
      event_types: ['pullImage'],
      targets: [target],
    });
    expect(made.status).toBe(201);
    expect(made.headers.get('location')).toMatch(new RegExp(`^${path}/\\d+$`));
    expect(
      await call(harbor, 'POST', path, {
        name: 'second',
        enabled: true,
        event_types: ['pushImage'],
        targets: [target],
      }),
    ).toMatchObject({ status: 500, text: '{"code":500,"message":"Internal Server Error"}\n' });
    const listed = await call(harbor, 'GET', `${path}?page=1&page_size=100`);
    expect(listed.headers.get('link')).toBeNull();
    expect(listed.json()).toEqual([
      {
        id: expect.any(Number),
        name: 'first',
        description: '',
        project_id: projId,
        targets: [target],
        event_types: ['pullImage'],
        creator: 'admin',
        creation_time: expect.any(String),
        update_time: expect.any(String),
        enabled: true,
      },
    ]);
    const id = (listed.json() as Array<{ id: number }>)[0].id;
    expect((await call(harbor, 'DELETE', `${path}/${id}`)).status).toBe(200);
  });

  test('register-webhook makes the pushImage policy by project id; a push is delivered as 1.10 does and copied', async () => {
    const dst = await startRegistry();
    const sut = await startServiceUnderTest(harbor.host, dst.host, { WebhookAuthHeader: HEADER });
    try {
      const run = await register(harbor.host, ['--project', 'proj', '--url', sut.url]);
      expect(run.code).toBe(0);
      const address = `${sut.url}/service/notifications`;
      expect(run.stdout).toMatch(
        new RegExp(
          `^created +proj: webhook policy "swr-harbor-sync-proj" \\(id \\d+\\), pushImage -> ${address}, with auth header\\n$`,
        ),
      );
      expect(
        harbor.requests.some((r) => r.method === 'POST' && r.path === `/api/projects/${projId}/webhook/policies`),
      ).toBe(true);
      const listed = (await call(harbor, 'GET', `/api/projects/${projId}/webhook/policies`)).json() as Array<
        Record<string, unknown>
      >;
      expect(listed).toEqual([
        expect.objectContaining({
          name: 'swr-harbor-sync-proj',
          enabled: true,
          event_types: ['pushImage'],
          targets: [{ type: 'http', address, auth_header: HEADER, skip_cert_verify: false }],
        }),
      ]);
      expectNoSecrets(run);

      const image = await pushImage(harbor.access, 'proj/legacy/app', 'v1', {
        format: 'docker',
        layers: [{ seed: 'register-1.10', size: 20_000 }],
      });
      await waitForJobs(sut.url, 'proj', (jobs) =>
        jobs.some((j) => j.spec.kind === 'image' && j.spec.repository === 'legacy/app' && j.state === 'succeeded'),
      );
      expect((await getManifest(dst, 'mirror/legacy/app', 'v1'))?.digest).toBe(image.digest);
      expect(harbor.webhookDeliveries.filter((d) => d.repository === 'proj/legacy/app')).toEqual([
        expect.objectContaining({ eventType: 'pushImage', address, status: 200 }),
      ]);

      expect((await register(harbor.host, ['--project', 'proj', '--url', sut.url])).stdout).toMatch(
        /^unchanged +proj: webhook policy "swr-harbor-sync-proj"/,
      );
    } finally {
      await sut.stop();
      await dst.stop();
    }
  }, 60_000);

  test('a project that already has a policy (1.x allows one) gets our target added to it, never a second policy', async () => {
    const pubId = ((await call(harbor, 'GET', '/api/projects?name=pub')).json() as Array<{ project_id: number }>)[0]
      .project_id;
    const path = `/api/projects/${pubId}/webhook/policies`;
    expect(
      (
        await call(harbor, 'POST', path, {
          name: 'ops',
          description: 'ops hook',
          enabled: true,
          event_types: ['deleteImage'],
          targets: [target],
        })
      ).status,
    ).toBe(201);
    const run = await register(harbor.host, ['--project', 'pub', '--url', URL_A]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /^updated +pub: webhook policy "ops" \(id \d+\), changed: event types, target added; pushImage -> /,
    );
    expect((await call(harbor, 'GET', path)).json()).toEqual([
      expect.objectContaining({
        name: 'ops',
        event_types: ['deleteImage', 'pushImage'],
        targets: [target, { type: 'http', address: URL_A, auth_header: HEADER, skip_cert_verify: false }],
      }),
    ]);
  });
});

describe('Harbor 2.0', () => {
  let harbor: HarborStandIn;

  beforeAll(async () => {
    harbor = await harborOf('2.0');
  });

  test("the stand-in answers 2.0's legacy policy API: ids only, and a name used in another project is refused (500)", async () => {
    const projects = (await call(harbor, 'GET', '/api/v2.0/projects?name=p&page_size=100')).json() as Array<{
      project_id: number;
      name: string;
    }>;
    const id = (name: string) => projects.find((p) => p.name === name)!.project_id;
    expect((await call(harbor, 'GET', '/api/v2.0/projects/proj/webhook/policies')).status).toBe(404);
    const body = { name: 'shared-name', enabled: true, event_types: ['PUSH_ARTIFACT'], targets: [target] };
    expect((await call(harbor, 'POST', `/api/v2.0/projects/${id('proj')}/webhook/policies`, body)).status).toBe(201);
    expect(await call(harbor, 'POST', `/api/v2.0/projects/${id('pub')}/webhook/policies`, body)).toMatchObject({
      status: 500,
      text: '{"errors":[{"code":"UNKNOWN","message":"internal server error"}]}',
    });
    const listed = (await call(harbor, 'GET', `/api/v2.0/projects/${id('proj')}/webhook/policies`)).json() as Array<{
      id: number;
    }>;
    expect(
      (await call(harbor, 'DELETE', `/api/v2.0/projects/${id('proj')}/webhook/policies/${listed[0].id}`)).status,
    ).toBe(200);
  });

  test('--all-mapped over two projects: both policies are made, each with its own name', async () => {
    const before = harbor.requests.length;
    const run = await register(harbor.host, ['--all-mapped', '--url', URL_A]);
    expect(run.stdout).toMatch(/^created +proj: webhook policy "swr-harbor-sync-proj" \(id \d+\), PUSH_ARTIFACT -> /m);
    expect(run.stdout).toMatch(/^created +pub: webhook policy "swr-harbor-sync-pub" \(id \d+\), PUSH_ARTIFACT -> /m);
    expect(run.code).toBe(0);
    expect(
      harbor
        .webhookPolicies()
        .map((p) => p.name)
        .sort(),
    ).toEqual(['swr-harbor-sync-proj', 'swr-harbor-sync-pub']);
    expect(
      harbor.requests
        .slice(before)
        .filter((r) => /^\/api\/v2\.0\/projects\/[a-z]/.test(r.path) && r.path.includes('/webhook/')),
    ).toEqual([]);
    expectNoSecrets(run);
    const again = await register(harbor.host, ['--all-mapped', '--url', URL_A]);
    expect(
      again.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(/ +/)[0]),
    ).toEqual(['unchanged', 'unchanged']);
  });
});

describe('Harbor 2.3', () => {
  let harbor: HarborStandIn;

  beforeAll(async () => {
    harbor = await harborOf('2.3');
  });

  test('the policy an older version named "swr-harbor-sync" is renamed, not joined by a second one', async () => {
    const made = await call(harbor, 'POST', '/api/v2.0/projects/proj/webhook/policies', {
      name: 'swr-harbor-sync',
      description: 'old',
      enabled: true,
      event_types: ['PUSH_ARTIFACT'],
      targets: [{ type: 'http', address: URL_A, auth_header: HEADER, payload_format: 'Default' }],
    });
    expect(made.status).toBe(201);
    const run = await register(harbor.host, ['--project', 'proj', '--url', URL_A]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /^updated +proj: webhook policy "swr-harbor-sync-proj" \(id \d+\), changed: name \(was "swr-harbor-sync"\);/,
    );
    expect(harbor.webhookPolicies('proj')).toEqual([
      expect.objectContaining({
        name: 'swr-harbor-sync-proj',
        event_types: ['PUSH_ARTIFACT'],
        targets: [expect.objectContaining({ address: URL_A })],
      }),
    ]);
  });

  describe('paging of the policy list, through a proxy that rewrites Link', () => {
    let proxy: FaultProxy;
    let elsewhere: FaultProxy;

    beforeAll(async () => {
      proxy = await startFaultProxy(harbor.url);
      // Another origin (another port) in front of the same Harbor: it must never be asked.
      elsewhere = await startFaultProxy(harbor.url);
    });

    afterAll(async () => {
      await Promise.all([proxy?.stop(), elsewhere?.stop()]);
    });

    test("a next page on Harbor's origin (scheme in upper case) is followed; on another origin it is an error, and nothing is sent there", async () => {
      proxy.inject({
        method: 'GET',
        path: /\/webhook\/policies\?page=1/,
        fault: {
          responseHeaders: {
            link: `<HTTP://${proxy.host}/api/v2.0/projects/proj/webhook/policies?page=2&page_size=100>; rel="next"`,
          },
        },
      });
      const followed = await register(proxy.host, ['--project', 'proj', '--url', URL_A]);
      expect(followed.stdout).toMatch(/^(unchanged|created) +proj: /);
      expect(proxy.requests.some((r) => r.path.endsWith('policies?page=2&page_size=100'))).toBe(true);

      proxy.inject({
        method: 'GET',
        path: /\/webhook\/policies\?/,
        fault: {
          responseHeaders: {
            link: `<${elsewhere.url}/api/v2.0/projects/proj/webhook/policies?page=2&page_size=100>; rel="next"`,
          },
        },
      });
      const run = await register(proxy.host, ['--project', 'proj', '--url', URL_A]);
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(
        new RegExp(
          `^failed +project "proj": could not list its webhook policies: .*points at another origin \\(${elsewhere.url}, not ${proxy.url}\\); not followed`,
          'm',
        ),
      );
      expect(elsewhere.requests).toEqual([]);
      expectNoSecrets(run);
    });

    test('a next page pointing back at a page already read ends the list with an error, not a loop', async () => {
      proxy.inject({
        method: 'GET',
        path: /\/webhook\/policies\?/,
        times: 5,
        fault: {
          responseHeaders: { link: '</api/v2.0/projects/proj/webhook/policies?page=1&page_size=100>; rel="next"' },
        },
      });
      const before = proxy.requests.length;
      const run = await register(proxy.host, ['--project', 'proj', '--url', URL_A]);
      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(
        /^failed +project "proj": could not list its webhook policies: Harbor's paging of \/api\/v2\.0\/projects\/proj\/webhook\/policies leads back to a page already read/m,
      );
      expect(proxy.requests.slice(before).filter((r) => r.path.includes('/webhook/policies'))).toHaveLength(1);
      proxy.clear();
    });
  });
});

test('harborPages compares origins as URLs do: case of scheme and host, and a default port, make no difference', async () => {
  const pages: Record<string, { link?: string; items: number[] }> = {
    '/list?page=1': { link: '<HTTP://Harbor.EXAMPLE:80/list?page=2>; rel="next"', items: [1] },
    '/list?page=2': { link: '<https://harbor.example/list?page=3>; rel="next"', items: [2] },
  };
  const asked: string[] = [];
  const fetchPage = async (url: string): Promise<HarborResponse> => {
    asked.push(url);
    return { status: 200, json: pages[url].items, text: '', headers: pages[url].link ? { link: pages[url].link } : {} };
  };
  const harbor = { baseUrl: 'http://harbor.example' } as HarborClient;
  await expect(harborPages(harbor, '/list?page=1', fetchPage)).rejects.toThrow(
    'points at another origin (https://harbor.example, not http://harbor.example)',
  );
  expect(asked).toEqual(['/list?page=1', '/list?page=2']);
});

test("Harbor's error bodies are quoted on the failed line itself: trimmed, control characters escaped", async () => {
  const harbor = await harborOf('2.3');
  const proxy = await startFaultProxy(harbor.url);
  try {
    // Go's plain 404 (a route a proxy or an older Harbor lacks) ends with a newline; another body tries to start
    // a line of its own and colour the terminal.
    proxy.inject({
      method: 'GET',
      path: /^\/api\/v2\.0\/projects\/proj\/webhook\/policies/,
      fault: { status: 404, body: '404 page not found\n' },
    });
    proxy.inject({
      method: 'GET',
      path: /^\/api\/v2\.0\/projects\/pub\/webhook\/policies/,
      fault: {
        status: 422,
        body: '{"errors":[{"code":"UNPROCESSABLE_ENTITY","message":"bad\\r\\nunchanged  pub\\u001b[31m"}]}',
      },
    });
    const run = await register(proxy.host, ['--project', 'proj', '--project', 'pub', '--url', URL_A]);
    expect(run.code).toBe(1);
    expect(run.stdout.split('\n')).toEqual([
      'failed    project "proj": Harbor has no project "proj" (404): check the project name (404 page not found)',
      'failed    project "pub": Harbor refused to list the webhook policies of it (422: bad\\r\\nunchanged  pub\\u001b[31m)',
      '',
    ]);
  } finally {
    await proxy.stop();
  }
});

describe('no webhook policies: the registry endpoint is printed, exit 3', () => {
  test('Harbor 1.8', async () => {
    const harbor = await harborOf('1.8');
    const run = await register(harbor.host, ['--all-mapped', '--url', URL_A]);
    expect(run.code).toBe(3);
    expect(run.stdout).toContain(
      'Harbor v1.8.6-ae4c8e5a (API v1) has no webhook policies (they came with Harbor 1.9): nothing was registered.',
    );
    expect(run.stdout).toContain('harbor/common/templates/registry/config.yml');
    expect(run.stdout).toContain(
      [
        'notifications:',
        '  endpoints:',
        '    - name: swr-harbor-sync',
        '      disabled: false',
        `      url: ${URL_A}`,
        '      headers:',
        "        Authorization: ['<the value of WebhookAuthHeader>']",
        '      timeout: 3000ms',
        '      threshold: 5',
        '      backoff: 1s',
      ].join('\n'),
    );
    expect(harbor.requests.filter((r) => r.method !== 'GET')).toEqual([]);
    expectNoSecrets(run);
  });

  test('a Harbor 1.x whose policy route answers 404 for a project that exists (a version hidden, or a 1.8 fork)', async () => {
    const harbor = await harborOf('1.10');
    const proxy = await startFaultProxy(harbor.url);
    try {
      proxy.inject({
        method: 'GET',
        path: /^\/api\/projects\/\d+\/webhook\/policies/,
        fault: { status: 404, body: '404 page not found\n' },
      });
      const run = await register(proxy.host, ['--project', 'proj', '--url', URL_A]);
      expect(run.code).toBe(3);
      expect(run.stdout).toMatch(
        /answers 404 to the webhook policies of project "proj", which exists: it is a Harbor before 1\.9: nothing was registered/,
      );
      expect(run.stdout).toContain(`      url: ${URL_A}\n`);
      expect(harbor.webhookPolicies()).toEqual([]);
    } finally {
      await proxy.stop();
    }
  });

  test('a plain registry at HarborAddr; without WebhookAuthHeader no headers', async () => {
    const registry = await startRegistry();
    try {
      const run = await register(registry.host, ['--project', 'proj', '--url', URL_A], { WebhookAuthHeader: '' });
      expect(run.code).toBe(3);
      expect(run.stdout).toContain(
        `HarborAddr http://${registry.host} does not answer as Harbor (GET /api/v2.0/systeminfo gave 404, GET /api/systeminfo gave 404; it answers the registry API /v2/): check HarborAddr/HarborProtocol, or set HarborAPI=registry to sync through the registry alone. Without Harbor's REST API there are no webhook policies (a plain registry's notifications do the same work): nothing was registered.`,
      );
      expect(run.stdout).toContain(`      url: ${URL_A}\n      timeout: 3000ms`);
      expect(run.stdout).not.toContain('Authorization');
    } finally {
      await registry.stop();
    }
  });
});
