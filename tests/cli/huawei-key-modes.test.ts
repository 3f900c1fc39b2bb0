// Which Huawei Cloud keys each way of reaching the destination needs, as check-config says it: without a
// registry login of its own the keys of HWAuthMethod are required; with SWRUser/SWRPassword they are not, and
// their absence is a warning saying what will not work (namespaces, the management API's listings); keys given
// by halves are an error. With its own login and no keys, a sync really copies and the service starts, warning.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { runCli } from '../harness/cli.js';
import { startHarbor, type HarborStandIn } from '../harness/harbor/index.js';
import { listTags, pushImage } from '../harness/images.js';
import { startRegistry, type RunningRegistry } from '../harness/registry.js';
import { startServiceUnderTest, testServiceConfig } from '../harness/service.js';
import { until } from '../harness/until.js';
import { appConfText } from '../harness/app-conf.js';

const LOGIN = { SWRUser: 'pusher', SWRPassword: 'pusher-password-0123' };
const NO_KEYS = { HWAK: '', HWSK: '', HWDomain: '', HWUser: '', HWPassword: '' };

let harbor: HarborStandIn;
let dst: RunningRegistry;
let dir: string;

beforeAll(async () => {
  [harbor, dst] = await Promise.all([
    startHarbor({ projects: [{ name: 'proj', public: false }] }),
    startRegistry({ auth: 'htpasswd', username: LOGIN.SWRUser, password: LOGIN.SWRPassword }),
  ]);
  dir = await mkdtemp(join(tmpdir(), 'swr-harbor-sync-key-modes-'));
  await pushImage(harbor.access, 'proj/app', 'v1', { format: 'docker', layers: [{ seed: 'key-modes', size: 6_000 }] });
});

afterAll(async () => {
  await Promise.all([harbor?.stop(), dst?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function cli(args: string[], extra: Record<string, string>) {
  const conf = {
    ...(await testServiceConfig(harbor.host, dst.host, join(dir, 'logs'), join(dir, 'data'))),
    NamespaceMap: 'proj:mirror',
    SWRManageNamespaces: 'true',
    ...NO_KEYS,
    ...extra,
  };
  const path = join(dir, `app-${Math.random().toString(36).slice(2)}.conf`);
  await writeFile(path, appConfText(conf));
  return runCli(args, { CONFIG_FILE: path, PATH: process.env.PATH ?? '/usr/bin:/bin' });
}

test('AKSK without keys and without a login of its own: both keys are required, saying why and what else would do', async () => {
  const run = await cli(['check-config'], { HWAuthMethod: 'AKSK' });
  expect(run.code).toBe(2);
  for (const key of ['HWAK', 'HWSK'])
    expect(run.stderr).toContain(
      `error: configuration: ${key} is required when HWAuthMethod=AKSK: the SWR login is derived from it, unless SWRUser/SWRPassword give a registry login of their own (or use HWAuthMethod=Password with HWDomain/HWPassword)\n`,
    );
});

test('Password without keys and without a login of its own: HWDomain and HWPassword are required', async () => {
  const run = await cli(['check-config'], { HWAuthMethod: 'Password' });
  expect(run.code).toBe(2);
  expect(run.stderr).toContain(
    'error: configuration: HWDomain is required when HWAuthMethod=Password (HWUser may be empty to act as the account itself): the SWR login is derived from it, unless SWRUser/SWRPassword give a registry login of their own (or use HWAuthMethod=AKSK with HWAK/HWSK)\n',
  );
  expect(run.stderr).toMatch(/^error: configuration: HWPassword is required when HWAuthMethod=Password/m);
});

test.each([
  ['AKSK', 'HWAK/HWSK'],
  ['Password', 'HWDomain/HWPassword'],
])(
  'HWAuthMethod=%s, SWRUser/SWRPassword and no keys: the checks pass, with a warning of what SWR will not do',
  async (method, keys) => {
    const run = await cli(['check-config'], { HWAuthMethod: method, ...LOGIN });
    expect(run.stdout).toContain(`ok   SWR registry ${dst.host}: reachable, login accepted\n`);
    expect(run.stdout).toContain(
      `warn SWR namespaces: no Huawei Cloud keys (${keys} for HWAuthMethod=${method}): SWRUser/SWRPassword log in to the registry, but SWR's management API cannot be used, so namespaces are not created (they must exist already) and the destination's tags are listed through the registry API; set ${keys} for those, or SWRManageNamespaces=false for a registry that is not SWR\n`,
    );
    expect(run.stdout).toMatch(/^all checks passed$/m);
    expect(run.code).toBe(0);
  },
);

test('SWRUser/SWRPassword, no keys, no HWAuthMethod and SWRManageNamespaces=false: nothing is missing, no warning', async () => {
  // A registry that is not SWR: no Huawei Cloud setting at all.
  const run = await cli(['check-config'], { HWAuthMethod: '', ...LOGIN, SWRManageNamespaces: 'false' });
  expect(run.stdout).toContain(
    'ok   SWR namespaces: not managed (SWRManageNamespaces=false): they must exist already\n',
  );
  expect(run.stdout).not.toMatch(/^warn/m);
  expect(run.code).toBe(0);
});

test('keys given by halves are an error even with a login of its own', async () => {
  const run = await cli(['check-config'], { HWAuthMethod: 'AKSK', ...LOGIN, HWAK: 'HALFAKEYONLY00000001' });
  expect(run.code).toBe(2);
  expect(run.stderr).toContain('error: configuration: HWSK is required with HWAK (HWAuthMethod=AKSK)\n');
});

test('SWRUser/SWRPassword and no keys: a sync copies with that login', async () => {
  const run = await cli(['sync', '--project', 'proj'], { HWAuthMethod: 'AKSK', ...LOGIN });
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  expect(await listTags(dst, 'mirror/app')).toEqual(['v1']);
});

test('the service with SWRUser/SWRPassword and no keys starts, and running.log warns what SWR will not do', async () => {
  const sut = await startServiceUnderTest(harbor.host, dst.host, {
    HWAuthMethod: 'AKSK',
    ...NO_KEYS,
    ...LOGIN,
    SWRManageNamespaces: 'true',
  });
  try {
    // The file is written asynchronously: wait for the line rather than read once.
    const warning = await until('the warning in running.log', async () =>
      (await readFile(join(sut.logDir, 'running.log'), 'utf8').catch(() => ''))
        .split('\n')
        .find((line) => line.includes(' WARN no Huawei Cloud keys')),
    );
    expect(warning).toMatch(
      / WARN no Huawei Cloud keys \(HWAK\/HWSK for HWAuthMethod=AKSK\): SWRUser\/SWRPassword log in to the registry, but SWR's management API cannot be used, so namespaces are not created/,
    );
  } finally {
    await sut.stop();
  }
});
