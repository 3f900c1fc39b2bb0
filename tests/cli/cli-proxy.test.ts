// The copy command behind a proxy, as skopeo is: http_proxy from the environment carries both registries'
// traffic through a real proxy, NO_PROXY lets a host by, and a refusal is a failed copy naming the proxy.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { runCli } from '../harness/cli.js';
import { pushImage } from '../harness/images.js';
import { startProxy, type RunningProxy } from '../harness/proxy.js';
import { startRegistry, type RunningRegistry } from '../harness/registry.js';

const PASSWORD = 'cli-proxy-pass-4410';

let registry: RunningRegistry;
let proxy: RunningProxy;
let guarded: RunningProxy;

beforeAll(async () => {
  [registry, proxy, guarded] = await Promise.all([
    startRegistry(),
    startProxy(),
    startProxy({ basicAuth: { user: 'cli', password: PASSWORD } }),
  ]);
  await pushImage(registry, 'px/app', 'v1', { format: 'docker', layers: [{ seed: 'cli-proxy', size: 20_000 }] });
});

afterAll(async () => {
  await Promise.all([registry?.stop(), proxy?.stop(), guarded?.stop()]);
});

/** `copy` within the registry (plain http), with only the given proxy variables. */
function copy(to: string, env: Record<string, string>) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/_proxy$/i.test(k))) as Record<
    string,
    string
  >;
  const args = [
    'copy',
    `${registry.host}/px/app:v1`,
    `${registry.host}/px/${to}:v1`,
    '--insecure-src',
    '--insecure-dst',
  ];
  return runCli(args, { ...clean, ...env }, { replaceEnv: true });
}

test('http_proxy carries the copy through the proxy; NO_PROXY lets the registry by', async () => {
  const through = await copy('through', { http_proxy: proxy.url });
  expect(through.code).toBe(0);
  expect(await proxy.tunnels()).toContain(registry.host);

  const before = (await proxy.tunnels()).length;
  const bypass = await copy('bypass', { http_proxy: proxy.url, no_proxy: registry.host });
  expect(bypass.code).toBe(0);
  expect((await proxy.tunnels()).length).toBe(before);
});

test('a refused tunnel fails the copy naming the proxy, without its credentials', async () => {
  const run = await copy('refused', { HTTP_PROXY: guarded.urlWith('cli', 'wrong-cli-pass-99') });
  expect(run.code).not.toBe(0);
  const output = `${run.stdout}${run.stderr}`;
  expect(output).toContain(`the proxy ${guarded.url} refused to open a tunnel to ${registry.host} (HTTP 401)`);
  expect(output).not.toContain('wrong-cli-pass-99');
});
