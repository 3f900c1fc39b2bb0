// Requests per new image against the SWR stand-in (real docker-registry behind it): a repository that holds no
// image gets its blobs uploaded without a HEAD first (issue 14, item 1); one that holds images keeps the HEAD.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { copyRepositories, CopyEngine } from '../../src/copy/index.js';
import { clientFor } from '../harness/clients.js';
import { pushImage } from '../harness/images.js';
import { startRegistry, type RunningRegistry } from '../harness/registry.js';
import { startSwr, SWR_REALM_PATH, type SwrRequest, type SwrStandIn } from '../harness/swr/index.js';

let source: RunningRegistry;
let swr: SwrStandIn;

beforeAll(async () => {
  [source, swr] = await Promise.all([
    startRegistry({ auth: 'none' }),
    // Unpaced: the test counts requests, and a 503 retried would count twice.
    startSwr({ ak: 'AKECONOMY', sk: 'sk-economy', namespaces: ['team'], requestsPerSecond: 0 }),
  ]);
});

afterAll(async () => {
  await Promise.all([source?.stop(), swr?.stop()]);
});

const blobHeads = (requests: SwrRequest[]) =>
  requests.filter((r) => r.method === 'HEAD' && r.path.includes('/blobs/')).length;

test('a new single-layer image costs 7 SWR requests (was 9: two blob HEADs that could only answer 404)', async () => {
  const images = 4;
  for (let i = 0; i < images; i++)
    await pushImage(source, `team/new${i}`, 'v1', { format: 'docker', layers: [{ seed: `economy-${i}`, size: 2000 }] });
  const from = clientFor(source);
  const to = clientFor(swr.access, { push: true });
  try {
    const engine = new CopyEngine();
    // The first image also meets the 401 that teaches the client SWR's token realm.
    const first = swr.requests.length;
    expect((await engine.copyImage(ref(from, 'team/new0', 'v1'), dst(to, 'team/new0'))).status).toBe('copied');
    const afterFirst = swr.requests.length;
    for (let i = 1; i < images; i++) {
      const result = await engine.copyImage(ref(from, `team/new${i}`, 'v1'), dst(to, `team/new${i}`));
      expect(result.status).toBe('copied');
      expect(result.blobsUploaded).toBe(2);
    }
    const perImage = (swr.requests.length - afterFirst) / (images - 1);
    // A token, tags/list (SWR: `tags: null`), POST + PUT for config and layer, the manifest PUT.
    expect(perImage).toBe(7);
    expect(afterFirst - first).toBe(8);
    expect(blobHeads(swr.requests.slice(first))).toBe(0);
  } finally {
    await Promise.all([from.close(), to.close()]);
  }
});

test('a repository that already holds an image keeps the blob HEAD, which spares the upload of a shared layer', async () => {
  const shared = { seed: 'economy-shared', size: 50_000 };
  await pushImage(source, 'team/held', 'v1', { format: 'docker', layers: [shared] });
  await pushImage(source, 'team/held', 'v2', {
    format: 'docker',
    layers: [shared, { seed: 'economy-v2', size: 2000 }],
  });
  const from = clientFor(source);
  const to = clientFor(swr.access, { push: true });
  try {
    expect((await new CopyEngine().copyImage(ref(from, 'team/held', 'v1'), dst(to, 'team/held', 'v1'))).status).toBe(
      'copied',
    );
    // A fresh engine: its location index knows nothing, as after a restart.
    const start = swr.requests.length;
    const second = await new CopyEngine().copyImage(ref(from, 'team/held', 'v2'), dst(to, 'team/held', 'v2'));
    expect(second.status).toBe('copied');
    expect(blobHeads(swr.requests.slice(start))).toBe(3);
    expect(second.blobsSkipped).toBe(1);
    expect(second.blobsUploaded).toBe(2);
  } finally {
    await Promise.all([from.close(), to.close()]);
  }
});

test('20 new single-layer images by repository copy: 6 SWR requests each and a token per 10 repositories', async () => {
  const names = Array.from({ length: 20 }, (_, i) => `team/batch${i}`);
  for (const name of names)
    await pushImage(source, name, 'v1', { format: 'docker', layers: [{ seed: `economy-${name}`, size: 2000 }] });
  const from = clientFor(source);
  const to = clientFor(swr.access, { push: true });
  try {
    const start = swr.requests.length;
    const results = await copyRepositories(new CopyEngine(), {
      source: from,
      destination: to,
      repositories: names.map((name) => ({ from: name, to: name })),
    });
    expect(results.map((r) => r.status)).toEqual(names.map(() => 'copied'));
    const made = swr.requests.slice(start);
    // GET /v2/ learns the realm, 2 tokens; per image tags/list, 2 POST, 2 PUT, the manifest PUT.
    expect(made.filter((r) => r.path.startsWith(SWR_REALM_PATH)).length).toBe(2);
    expect(made.length).toBe(3 + 20 * 6);
    expect(blobHeads(made)).toBe(0);
  } finally {
    await Promise.all([from.close(), to.close()]);
  }
});

function ref(client: ReturnType<typeof clientFor>, repository: string, reference: string) {
  return { client, repository, reference };
}

function dst(client: ReturnType<typeof clientFor>, repository: string, tag = 'v1') {
  return { client, repository, tag };
}
