// An index graph built to hurt, pushed to a real source registry: an index naming one child index fifty times
// at each of three levels (125,000 paths through the graph, four distinct manifests), and a chain of indexes
// nested deeper than any real image. The walk fetches each distinct manifest once, and a graph past its
// limits fails the image at once (a permanent failure, not retried), naming what is wrong.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { CopyEngine } from '../../src/copy/index.js';
import { MANIFEST_LIMITS } from '../../src/copy/manifest-budget.js';
import { RegistryClient } from '../../src/oci/index.js';
import { judge } from '../../src/jobs/policy.js';
import { clientFor } from '../harness/clients.js';
import { startFaultProxy, type FaultProxy } from '../harness/fault-proxy.js';
import { assertImageComplete, getManifest, OCI_INDEX, pushImage, putManifest } from '../harness/images.js';
import { startRegistry, type RunningRegistry } from '../harness/registry.js';

let src: RunningRegistry;
let dst: RunningRegistry;
let proxy: FaultProxy;
let srcClient: RegistryClient;
let dstClient: RegistryClient;

beforeAll(async () => {
  [src, dst] = await Promise.all([startRegistry(), startRegistry()]);
  proxy = await startFaultProxy(src.url);
  srcClient = new RegistryClient({ host: proxy.host, insecure: true, retry: { retries: 0 } });
  dstClient = clientFor(dst, { push: true });
});

afterAll(async () => {
  await Promise.all([srcClient?.close(), dstClient?.close()]);
  await proxy?.stop();
  await Promise.all([src?.stop(), dst?.stop()]);
});

/** Pushes an OCI index naming `child` `times` times; returns its descriptor. */
async function indexOf(repo: string, child: { mediaType: string; digest: string; size: number }, times: number) {
  const body = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: Array(times).fill(child) }),
  );
  const digest = await putManifest(src, repo, undefined, OCI_INDEX, body);
  return { mediaType: OCI_INDEX, digest, size: body.length };
}

const manifestGets = (repo: string) =>
  proxy.requests.filter((r) => r.method === 'GET' && r.path.startsWith(`/v2/${repo}/manifests/`)).length;

test('an index naming the same child index fifty times at each level: each distinct manifest fetched once', async () => {
  const repo = 'limits/fanout';
  const image = await pushImage(src, repo, undefined, {
    format: 'oci',
    layers: [{ seed: 'limits-fanout', size: 2_000 }],
  });
  let node = { mediaType: image.mediaType, digest: image.digest, size: image.size };
  for (let level = 0; level < 3; level++) node = await indexOf(repo, node, 50);
  const top = await putManifest(
    src,
    repo,
    'v1',
    OCI_INDEX,
    Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: Array(50).fill(node) })),
  );
  proxy.requests.length = 0;
  const result = await new CopyEngine().copyImage(
    { client: srcClient, repository: repo, reference: 'v1' },
    { client: dstClient, repository: repo, tag: 'v1' },
  );
  expect(result).toMatchObject({ status: 'copied' });
  // Checked at the bottom and the top only: the harness's own walk would follow all 125,000 paths.
  expect((await getManifest(dst, repo, 'v1'))?.digest).toBe(top);
  await assertImageComplete(dst, repo, image.digest);
  // The tag, three child indexes and the image: five manifests, each asked once.
  expect(manifestGets(repo)).toBe(5);
});

test(`indexes nested deeper than ${MANIFEST_LIMITS.depth} fail the image at once, permanently, naming why`, async () => {
  const repo = 'limits/deep';
  const image = await pushImage(src, repo, undefined, {
    format: 'oci',
    layers: [{ seed: 'limits-deep', size: 2_000 }],
  });
  let node = { mediaType: image.mediaType, digest: image.digest, size: image.size };
  for (let level = 0; level < MANIFEST_LIMITS.depth; level++) node = await indexOf(repo, node, 1);
  await putManifest(
    src,
    repo,
    'v1',
    OCI_INDEX,
    Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [node] })),
  );
  proxy.requests.length = 0;
  const result = await new CopyEngine().copyImage(
    { client: srcClient, repository: repo, reference: 'v1' },
    { client: dstClient, repository: repo, tag: 'v1' },
  );
  expect(result).toMatchObject({ status: 'failed', errorCode: 'MANIFEST_TREE_TOO_LARGE' });
  expect(result.reason).toContain(`is not copied: indexes nest more than ${MANIFEST_LIMITS.depth} deep`);
  // The top and the four indexes under it were read; the image below them was not.
  expect(manifestGets(repo)).toBe(1 + MANIFEST_LIMITS.depth);
  expect(judge({ results: [result] })).toMatchObject({ state: 'failed', permanent: true });
});
