// Listings against a real registry: tags and catalog paged through Link headers, unknown repositories,
// and referrers through the fallback tag when the registry has no referrers API (Distribution 2.8).
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { RegistryClient } from '../../src/oci/index.js';
import { call } from '../harness/registry-http.js';
import { pushImage } from '../harness/images.js';
import { startRegistry, type RunningRegistry } from '../harness/registry.js';
import { startFaultProxy, type FaultProxy } from '../harness/fault-proxy.js';

let registry: RunningRegistry;
let proxy: FaultProxy;
let client: RegistryClient;

beforeAll(async () => {
  registry = await startRegistry();
  proxy = await startFaultProxy(registry.url);
  client = new RegistryClient({ host: proxy.host, insecure: true, pageSize: 3 });
  const image = await pushImage(registry, 'list/app', 't0', {
    format: 'docker',
    layers: [{ seed: 'list', size: 1000 }],
  });
  const manifest = (
    await call(registry, { method: 'GET', path: `/v2/list/app/manifests/t0`, headers: { accept: image.mediaType } })
  ).body;
  for (let i = 1; i < 8; i++) {
    await call(registry, {
      method: 'PUT',
      path: `/v2/list/app/manifests/t${i}`,
      headers: { 'content-type': image.mediaType },
      body: () => manifest,
    });
  }
  for (const repo of ['list/b', 'list/c', 'list/d', 'list/e'])
    await pushImage(registry, repo, 'v1', { format: 'docker', layers: [{ seed: 'list', size: 1000 }] });
});

afterAll(async () => {
  await client?.close();
  await proxy?.stop();
  await registry?.stop();
});

test('every tag is listed (Distribution 2.8 answers tags in one page whatever n says)', async () => {
  expect((await client.listTags('list/app'))!.sort()).toEqual(['t0', 't1', 't2', 't3', 't4', 't5', 't6', 't7']);
});

test('the catalog is listed across pages by following Link', async () => {
  proxy.requests.length = 0;
  expect((await client.listRepositories()).sort()).toEqual(['list/app', 'list/b', 'list/c', 'list/d', 'list/e']);
  expect(proxy.requests.filter((r) => r.path.startsWith('/v2/_catalog')).map((r) => r.path)).toEqual([
    '/v2/_catalog?n=3',
    '/v2/_catalog?last=list%2Fc&n=3',
  ]);
});

test('an unknown repository lists as undefined, not as an error or an empty list', async () => {
  expect(await client.listTags('list/nothing-here')).toBeUndefined();
});

test('without a referrers API and without a fallback tag there are no referrers', async () => {
  const head = await client.headManifest('list/app', 't0');
  expect(await client.listReferrers('list/app', head!.digest)).toEqual({ descriptors: [], source: 'none' });
});
