// The copy engine when things go wrong between real registries: 503/429 storms, connection resets, a dropped
// download resumed with Range, a registry refusing single-request uploads, a corrupted source blob, and a
// stale location index.
import { writeFile } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { CopyEngine, MemoryLocationIndex } from '../../src/copy/index.js';
import type { RegistryClient } from '../../src/oci/index.js';
import { clientFor, through } from '../harness/clients.js';
import { startFaultProxy, type FaultProxy } from '../harness/fault-proxy.js';
import { assertImageComplete, blobPath, getManifest, listTags, pushImage, type LayerSpec } from '../harness/images.js';
import { layerBlobSize } from '../harness/layers.js';
import { startRegistry, type RunningRegistry } from '../harness/registry.js';

const layer = (seed: string, size = 200_000): LayerSpec => ({ seed, size });

let src: RunningRegistry;
let dst: RunningRegistry;
let srcProxy: FaultProxy;
let dstProxy: FaultProxy;
let srcClient: RegistryClient;
let dstClient: RegistryClient;

beforeAll(async () => {
  [src, dst] = await Promise.all([startRegistry(), startRegistry()]);
  [srcProxy, dstProxy] = await Promise.all([startFaultProxy(src.url), startFaultProxy(dst.url)]);
  srcClient = clientFor(through(src, srcProxy.url));
  dstClient = clientFor(through(dst, dstProxy.url), { push: true });
});

afterEach(() => {
  srcProxy.clear();
  dstProxy.clear();
});

afterAll(async () => {
  await Promise.all([srcClient?.close(), dstClient?.close()]);
  await Promise.all([srcProxy?.stop(), dstProxy?.stop()]);
  await Promise.all([src?.stop(), dst?.stop()]);
});

function copy(engine: CopyEngine, repo: string, tag: string) {
  return engine.copyImage(
    { client: srcClient, repository: repo, reference: tag },
    { client: dstClient, repository: repo, tag },
  );
}

async function expectCopied(repo: string, tag: string): Promise<void> {
  expect((await getManifest(dst, repo, tag))?.digest).toBe((await getManifest(src, repo, tag))!.digest);
  await assertImageComplete(dst, repo, tag, { verifyContent: true });
}

test('503 and 429 storms with Retry-After on both sides end with every digest verified and retries counted', async () => {
  await pushImage(src, 'faults/storm', 'v1', { format: 'docker', layers: [layer('storm-a'), layer('storm-b')] });
  srcProxy.inject({ method: 'GET', path: /\/manifests\//, times: 3, fault: { status: 503, retryAfter: 0 } });
  srcProxy.inject({ method: 'GET', path: /\/blobs\//, times: 2, fault: { status: 429, retryAfter: 0 } });
  dstProxy.inject({ method: 'POST', path: /\/blobs\/uploads\//, times: 3, fault: { status: 503 } });
  dstProxy.inject({ method: 'PUT', path: /\/manifests\//, times: 2, fault: { status: 502 } });
  const result = await copy(new CopyEngine(), 'faults/storm', 'v1');
  expect(result.status).toBe('copied');
  expect(result.retries).toBeGreaterThanOrEqual(10);
  await expectCopied('faults/storm', 'v1');
});

test('connection resets on requests and on a streaming upload are retried', async () => {
  await pushImage(src, 'faults/reset', 'v1', { format: 'oci', layers: [layer('reset-a', 400_000)] });
  srcProxy.inject({ method: 'GET', path: /\/manifests\//, times: 1, fault: { reset: true } });
  dstProxy.inject({ method: 'PUT', path: /\/blobs\/uploads\/.*digest=/, times: 1, fault: { reset: true } });
  dstProxy.inject({ method: 'HEAD', times: 1, fault: { reset: true } });
  const result = await copy(new CopyEngine(), 'faults/reset', 'v1');
  expect(result.status).toBe('copied');
  expect(result.retries).toBeGreaterThanOrEqual(2);
  await expectCopied('faults/reset', 'v1');
});

test('a download dropped part way resumes with Range instead of starting over', async () => {
  const big = layer('resume-big', 3_000_000);
  const pushed = await pushImage(src, 'faults/resume', 'v1', { format: 'docker', layers: [big] });
  const blob = pushed.layers[0];
  srcProxy.inject({
    method: 'GET',
    path: new RegExp(`/blobs/${blob.digest}`),
    times: 1,
    fault: { truncateAfterBytes: 1_000_000 },
  });
  const result = await copy(new CopyEngine(), 'faults/resume', 'v1');
  expect(result.status).toBe('copied');
  const gets = srcProxy.requests.filter((r) => r.method === 'GET' && r.path.includes(blob.digest));
  expect(gets).toHaveLength(2);
  // The upload kept streaming across the drop: one PUT, not a restart.
  expect(
    dstProxy.requests.filter((r) => r.method === 'PUT' && r.path.includes(encodeURIComponent(blob.digest))),
  ).toHaveLength(1);
  expect(result.bytesUploaded).toBe(layerBlobSize(big) + pushed.config.size);
  await expectCopied('faults/resume', 'v1');
});

test('a registry refusing single-request uploads gets the blob in chunks', async () => {
  await pushImage(src, 'faults/chunked', 'v1', { format: 'docker', layers: [layer('chunked-a', 1_000_000)] });
  dstProxy.inject({
    method: 'PUT',
    path: /\/blobs\/uploads\/.*digest=/,
    times: 2,
    fault: { status: 413, body: 'request entity too large' },
  });
  const result = await copy(new CopyEngine({ chunkSize: 256 * 1024 }), 'faults/chunked', 'v1');
  expect(result.status).toBe('copied');
  const patches = dstProxy.requests.filter((r) => r.method === 'PATCH');
  expect(patches.length).toBeGreaterThanOrEqual(4);
  await expectCopied('faults/chunked', 'v1');
});

test("a registry's OCI-Chunk-Min-Length raises the chunk size of a chunked upload", async () => {
  const pushed = await pushImage(src, 'faults/min-chunk', 'v1', {
    format: 'docker',
    layers: [layer('min-chunk-a', 1_000_000)],
  });
  dstProxy.inject({
    method: 'POST',
    path: /\/blobs\/uploads\//,
    times: Infinity,
    fault: { responseHeaders: { 'OCI-Chunk-Min-Length': '400000' } },
  });
  dstProxy.inject({
    method: 'PUT',
    path: new RegExp(`/blobs/uploads/.*digest=${encodeURIComponent(pushed.layers[0].digest)}`),
    times: 1,
    fault: { status: 413 },
  });
  const result = await copy(new CopyEngine({ chunkSize: 100_000 }), 'faults/min-chunk', 'v1');
  expect(result.status).toBe('copied');
  // 1,00x,xxx bytes in chunks of at least 400,000: three PATCHes, not eleven.
  expect(dstProxy.requests.filter((r) => r.method === 'PATCH' && r.path.includes('/faults/min-chunk/'))).toHaveLength(
    3,
  );
  await expectCopied('faults/min-chunk', 'v1');
});

test('a registry whose HEAD leaves out Docker-Content-Digest is asked with a GET instead', async () => {
  await pushImage(src, 'faults/no-digest', 'v1', { format: 'docker', layers: [layer('no-digest-a')] });
  expect((await copy(new CopyEngine(), 'faults/no-digest', 'v1')).status).toBe('copied');
  dstProxy.requests.length = 0;
  dstProxy.inject({
    method: 'HEAD',
    path: /\/manifests\//,
    times: Infinity,
    fault: { responseHeaders: { 'Docker-Content-Digest': null } },
  });
  const again = await copy(new CopyEngine(), 'faults/no-digest', 'v1');
  expect(again.status).toBe('skipped');
  expect(again.reason).toBe('destination already has this digest');
  const manifestCalls = dstProxy.requests.filter((r) => r.path.includes('/manifests/')).map((r) => r.method);
  expect(manifestCalls).toEqual(['HEAD', 'GET']);
});

test('a corrupted source blob fails its image without writing the tag, and other images still copy', async () => {
  const bad = await pushImage(src, 'faults/corrupt', 'v1', { format: 'docker', layers: [layer('corrupt-a')] });
  await pushImage(src, 'faults/healthy', 'v1', { format: 'docker', layers: [layer('healthy-a')] });
  const victim = bad.layers[0];
  // Same size, other bytes: only the digest check can notice.
  await writeFile(blobPath(src.storageDir, victim.digest), Buffer.alloc(victim.size, 7));
  const engine = new CopyEngine();
  const results = await engine.copyImages(
    ['faults/corrupt', 'faults/healthy'].map((repository) => ({
      source: { client: srcClient, repository, reference: 'v1' },
      destination: { client: dstClient, repository, tag: 'v1' },
    })),
  );
  const [corrupt, healthy] = results;
  expect(corrupt.status).toBe('failed');
  expect(corrupt.errorCode).toBe('DIGEST_MISMATCH');
  expect(corrupt.reason).toContain(victim.digest);
  expect(await listTags(dst, 'faults/corrupt')).toEqual([]);
  const stored = await fetch(`${dst.url}/v2/faults/corrupt/blobs/${victim.digest}`, { method: 'HEAD' });
  expect(stored.status).toBe(404);
  expect(healthy.status).toBe('copied');
  await expectCopied('faults/healthy', 'v1');
});

test('a location index that claims a blob the destination lacks heals itself on MANIFEST_BLOB_UNKNOWN', async () => {
  const pushed = await pushImage(src, 'faults/stale', 'v1', { format: 'oci', layers: [layer('stale-a')] });
  const index = new MemoryLocationIndex();
  for (const blob of [pushed.config, ...pushed.layers]) await index.record(dstClient.host, blob.digest, 'faults/stale');
  const result = await copy(new CopyEngine({}, index), 'faults/stale', 'v1');
  expect(result.status).toBe('copied');
  expect(result.blobsUploaded).toBe(2);
  await expectCopied('faults/stale', 'v1');
});

describe('when retries run out', () => {
  test('a destination that keeps answering 503 fails the image with a reason naming the host', async () => {
    await pushImage(src, 'faults/down', 'v1', { format: 'docker', layers: [layer('down-a')] });
    dstProxy.inject({ times: Infinity, fault: { status: 503 } });
    const result = await copy(new CopyEngine({ blobRetries: 1 }), 'faults/down', 'v1');
    expect(result.status).toBe('failed');
    expect(result.reason).toContain(dstClient.host);
    expect(result.reason).toMatch(/503/);
    expect(await listTags(dst, 'faults/down')).toEqual([]);
  });
});
