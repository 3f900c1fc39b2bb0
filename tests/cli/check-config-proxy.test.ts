// check-config behind a proxy, as the built command: the environment's lower-case http_proxy carries Harbor's
// REST API and SWR's management API (fetch) through a real proxy, each endpoint's line says its route, NO_PROXY
// with a CIDR sends them direct, and a proxy that does not answer fails the checks naming it without its password.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { appConfText } from '../harness/app-conf.js';
import { runCli } from '../harness/cli.js';
import { startHarbor, type HarborStandIn } from '../harness/harbor/index.js';
import { freePort } from '../harness/ports.js';
import { startProxy, type RunningProxy } from '../harness/proxy.js';
import { startSwr, type SwrStandIn } from '../harness/swr/index.js';

const AK = 'PROXYCHECKACCESSKEY1';
const SK = 'proxy-check-secret-key-0123456789';

let harbor: HarborStandIn;
let swr: SwrStandIn;
let proxy: RunningProxy;
let dir: string;
let file: string;

beforeAll(async () => {
  [harbor, swr, proxy] = await Promise.all([
    startHarbor({ projects: [{ name: 'proj', public: false }] }),
    startSwr({ ak: AK, sk: SK, namespaces: ['mirror'], requestsPerSecond: 0 }),
    startProxy(),
  ]);
  dir = await mkdtemp(join(tmpdir(), 'swr-harbor-sync-check-proxy-'));
  file = join(dir, 'app.conf');
  await writeFile(
    file,
    appConfText({
      HWAuthMethod: 'AKSK',
      HWAK: AK,
      HWSK: SK,
      RegionName: 'cn-north-4',
      HarborAddr: harbor.host,
      HarborProtocol: 'http',
      HarborUser: 'admin',
      HarborPassword: 'Harbor12345',
      SWRRegistry: swr.host,
      SWRProtocol: 'http',
      SWRApiEndpoint: swr.url,
      NamespaceMap: 'proj:mirror',
      LogDir: join(dir, 'logs'),
      DataDir: join(dir, 'data'),
    }),
  );
});

afterAll(async () => {
  await Promise.all([harbor?.stop(), swr?.stop(), proxy?.stop()]);
  await rm(dir, { recursive: true, force: true });
});

/** check-config with only the given proxy variables (the machine's own are left out). */
function checkConfig(env: Record<string, string>) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/_proxy$/i.test(k))) as Record<
    string,
    string
  >;
  return runCli(['check-config'], { ...clean, CONFIG_FILE: file, ...env }, { replaceEnv: true });
}

test('http_proxy (lower case) carries Harbor, the registry and the SWR API through the proxy, and each line says so', async () => {
  const run = await checkConfig({ http_proxy: proxy.url });
  expect(run.stdout).toMatch(/^all checks passed$/m);
  const through = `through ${proxy.url} (http_proxy)`;
  expect(run.stdout).toContain(`ok   route to Harbor ${harbor.host}: ${through}\n`);
  expect(run.stdout).toContain(`ok   route to SWR registry ${swr.host}: ${through}\n`);
  expect(run.stdout).toContain(`ok   route to SWR API ${swr.host}: ${through}\n`);
  const tunnels = await proxy.tunnels();
  expect(tunnels).toContain(harbor.host);
  expect(tunnels).toContain(swr.host);
  // The SWR API's namespace listing (fetch) went through too: the stand-in's API is on the registry's port.
  expect(swr.requests.some((r) => r.path.startsWith('/v2/manage/namespaces'))).toBe(true);
});

test('NO_PROXY with a CIDR sends them direct, and says which entry did', async () => {
  const before = (await proxy.tunnels()).length;
  const run = await checkConfig({ HTTP_PROXY: proxy.url, NO_PROXY: 'example.com, 127.0.0.0/8' });
  expect(run.stdout).toMatch(/^all checks passed$/m);
  expect(run.stdout).toContain(`ok   route to Harbor ${harbor.host}: direct (NO_PROXY has 127.0.0.0/8)\n`);
  expect((await proxy.tunnels()).length).toBe(before);
});

test('a proxy that does not answer fails the checks with its address, never its password', async () => {
  const port = await freePort();
  const run = await checkConfig({
    HTTPS_PROXY: 'ignored:1',
    Proxy: `http://someone:pw-of-proxy-123@127.0.0.1:${port}`,
  });
  expect(run.code).toBe(1);
  expect(run.stdout).toContain(`route to Harbor ${harbor.host}: through http://127.0.0.1:${port} (Proxy)`);
  expect(run.stdout).toMatch(
    new RegExp(
      `^FAIL Harbor at http://${harbor.host}: .*cannot reach the proxy http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)`,
      'm',
    ),
  );
  // SWR's management API (fetch) went to the proxy as well.
  expect(run.stdout).toMatch(
    new RegExp(
      `^FAIL SWR namespace mirror: .*cannot reach the proxy http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)`,
      'm',
    ),
  );
  expect(`${run.stdout}${run.stderr}`).not.toMatch(/pw-of-proxy-123|someone/);
});

test('a proxy URL or NO_PROXY entry that cannot be read is a configuration error naming where it was set', async () => {
  const run = await checkConfig({ HTTPS_PROXY: 'socks5://user:secret-socks-pw@proxy:1080', NO_PROXY: '10.0.0.0/40' });
  expect(run.code).toBe(2);
  expect(run.stderr).toMatch(/HTTPS_PROXY uses socks5; only http:\/\/ and https:\/\/ proxies are supported/);
  expect(run.stderr).toMatch(/NO_PROXY: "10\.0\.0\.0\/40" is not a CIDR range/);
  expect(run.stderr).not.toContain('secret-socks-pw');
});
