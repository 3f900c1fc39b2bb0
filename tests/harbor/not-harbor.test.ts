// "This address is not Harbor": a plain registry (Debian's docker-registry) at HarborAddr gets one sentence from
// every command and answer (check-config, sync --dry-run, POST /api/v1/sync, the old manual call), naming what
// was asked and what to check; and a project Harbor does not have is refused naming the field the caller sent.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { runCli } from '../harness/cli.js';
import { startHarbor, type HarborStandIn } from '../harness/harbor/index.js';
import { startRegistry, type RunningRegistry } from '../harness/registry.js';
import { startServiceUnderTest, testServiceConfig, type ServiceUnderTest } from '../harness/service.js';

let plain: RunningRegistry;
let dst: RunningRegistry;
let dir: string;

beforeAll(async () => {
  [plain, dst] = await Promise.all([startRegistry(), startRegistry()]);
  dir = await mkdtemp(join(tmpdir(), 'swr-harbor-sync-not-harbor-'));
});

afterAll(async () => {
  await Promise.all([plain?.stop(), dst?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** What every command and answer says of a plain registry at HarborAddr. */
const notHarbor = () =>
  `HarborAddr http://${plain.host} does not answer as Harbor (GET /api/v2.0/systeminfo gave 404, GET /api/systeminfo gave 404; it answers the registry API /v2/): check HarborAddr/HarborProtocol, or set HarborAPI=registry to sync through the registry alone`;

async function cli(args: string[], extra: Record<string, string> = {}) {
  const conf = {
    ...(await testServiceConfig(plain.host, dst.host, join(dir, 'logs'), join(dir, 'data'))),
    NamespaceMap: 'library:mirror',
    ...extra,
  };
  const path = join(dir, `app-${Math.random().toString(36).slice(2)}.conf`);
  await writeFile(
    path,
    Object.entries(conf)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n'),
  );
  return runCli(args, { CONFIG_FILE: path, PATH: process.env.PATH ?? '/usr/bin:/bin' });
}

describe('a plain registry at HarborAddr', () => {
  test('check-config: the Harbor check says it, and no project check blames NamespaceMap', async () => {
    const run = await cli(['check-config']);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`FAIL Harbor at http://${plain.host}: ${notHarbor()}\n`);
    expect(run.stdout).not.toMatch(/NamespaceMap|has no project/);
  });

  test('sync --dry-run: one line saying it, no blank line', async () => {
    const run = await cli(['sync', '--project', 'library', '--dry-run']);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`error: ${notHarbor()}\n`);
  });

  test('sync with HarborAPI=v2: the same cause, and that HarborAPI asks for that API only', async () => {
    const run = await cli(['sync', '--project', 'library', '--dry-run'], { HarborAPI: 'v2' });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `error: HarborAddr http://${plain.host} does not answer as Harbor (GET /api/v2.0/systeminfo gave 404; HarborAPI=v2 asks for Harbor's v2 REST API only): check HarborAddr/HarborProtocol, or set HarborAPI=auto\n`,
    );
  });

  test('POST /api/v1/sync and the old manual call answer 502 NOT_HARBOR with it', async () => {
    const sut = await startServiceUnderTest(plain.host, dst.host, { NamespaceMap: 'library:mirror' });
    try {
      const api = await fetch(`${sut.url}/api/v1/sync`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ project: 'library' }),
      });
      expect([api.status, await api.json()]).toEqual([502, { error: { code: 'NOT_HARBOR', message: notHarbor() } }]);
      const old = await fetch(`${sut.url}/service/synchronization/namespace`, {
        method: 'POST',
        headers: { Projectname: 'library' },
      });
      expect([old.status, await old.json()]).toEqual([502, { error: { code: 'NOT_HARBOR', message: notHarbor() } }]);
    } finally {
      await sut.stop();
    }
  });
});

describe('a project Harbor does not have', () => {
  let harbor: HarborStandIn;
  let sut: ServiceUnderTest;

  beforeAll(async () => {
    harbor = await startHarbor({ projects: [{ name: 'proj', public: false }] });
    sut = await startServiceUnderTest(harbor.host, dst.host);
  });

  afterAll(async () => {
    await sut?.stop();
    await harbor?.stop();
  });

  test('POST /api/v1/sync names the "project" field it was sent, the old call its Projectname header', async () => {
    const api = await fetch(`${sut.url}/api/v1/sync`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ project: 'ghost', namespace: 'ghost' }),
    });
    expect([api.status, await api.json()]).toEqual([
      404,
      { error: { code: 'PROJECT_NOT_FOUND', message: 'Harbor has no project "ghost"; check the "project" field' } },
    ]);
    const old = await fetch(`${sut.url}/service/synchronization/namespace`, {
      method: 'POST',
      headers: { Projectname: 'ghost', Namespace: 'ghost', HarborUser: 'admin', HarborPassword: 'Harbor12345' },
    });
    expect([old.status, await old.json()]).toEqual([
      404,
      { error: { code: 'PROJECT_NOT_FOUND', message: 'Harbor has no project "ghost"; check the Projectname header' } },
    ]);
  });
});
