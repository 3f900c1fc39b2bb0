// Conversion of OCI images to Docker formats between real registries: what changes (manifest media types and
// digests), what does not (blobs), and what cannot be converted.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { CopyEngine } from '../../src/copy/index.js';
import type { RegistryClient } from '../../src/oci/index.js';
import { clientFor } from '../harness/clients.js';
import {
  assertImageComplete,
  DOCKER_LIST,
  DOCKER_MANIFEST,
  getManifest,
  pushArtifact,
  pushImage,
  pushIndex,
} from '../harness/images.js';
import { call } from '../harness/registry-http.js';
import { startRegistry, type RunningRegistry } from '../harness/registry.js';

let src: RunningRegistry;
let dst: RunningRegistry;
let srcClient: RegistryClient;
let dstClient: RegistryClient;

beforeAll(async () => {
  [src, dst] = await Promise.all([startRegistry(), startRegistry()]);
  srcClient = clientFor(src);
  dstClient = clientFor(dst, { push: true });
});

afterAll(async () => {
  await Promise.all([srcClient?.close(), dstClient?.close()]);
  await Promise.all([src?.stop(), dst?.stop()]);
});

const copy = (engine: CopyEngine, repo: string, tag: string) =>
  engine.copyImage(
    { client: srcClient, repository: repo, reference: tag },
    { client: dstClient, repository: repo, tag },
  );

test('an OCI multi-arch index becomes a Docker manifest list of converted images over the same blobs', async () => {
  const pushed = await pushIndex(src, 'convert/multi', 'v1', {
    format: 'oci',
    images: [
      { platform: { os: 'linux', architecture: 'amd64' }, layers: [{ seed: 'conv-amd', size: 30_000 }] },
      { platform: { os: 'linux', architecture: 'arm64', variant: 'v8' }, layers: [{ seed: 'conv-arm', size: 30_000 }] },
    ],
  });
  const result = await copy(new CopyEngine({ manifestFormat: 'docker' }), 'convert/multi', 'v1');
  expect(result).toMatchObject({
    status: 'copied',
    converted: true,
    sourceDigest: pushed.digest,
    mediaType: DOCKER_LIST,
  });
  expect(result.destinationDigest).not.toBe(pushed.digest);
  const list = (await getManifest(dst, 'convert/multi', 'v1'))!;
  expect(list.digest).toBe(result.destinationDigest);
  expect(list.json.mediaType).toBe(DOCKER_LIST);
  expect(list.json.manifests!.map((m) => m.platform!.architecture)).toEqual(['amd64', 'arm64']);
  for (const [i, child] of list.json.manifests!.entries()) {
    expect(child.mediaType).toBe(DOCKER_MANIFEST);
    const image = (await getManifest(dst, 'convert/multi', child.digest))!;
    expect(image.json.mediaType).toBe(DOCKER_MANIFEST);
    // Blobs keep their digests: only descriptions changed.
    expect(image.json.layers!.map((l) => l.digest)).toEqual(pushed.images[i].layers.map((l) => l.digest));
    expect(image.json.config!.digest).toBe(pushed.images[i].config.digest);
    expect(image.json.layers![0].mediaType).toBe('application/vnd.docker.image.rootfs.diff.tar.gzip');
  }
  await assertImageComplete(dst, 'convert/multi', 'v1');
});

test('a second sync recognises the converted image and transfers nothing', async () => {
  await pushImage(src, 'convert/again', 'v1', { format: 'oci', layers: [{ seed: 'conv-again', size: 20_000 }] });
  expect((await copy(new CopyEngine({ manifestFormat: 'docker' }), 'convert/again', 'v1')).status).toBe('copied');
  const again = await copy(new CopyEngine({ manifestFormat: 'auto' }), 'convert/again', 'v1');
  expect(again).toMatchObject({ status: 'skipped', converted: true, manifestsPushed: 0, blobsUploaded: 0 });
  expect(again.reason).toMatch(/converted to Docker format/);
});

test('a Docker image is pushed unchanged even when conversion is asked for', async () => {
  const pushed = await pushImage(src, 'convert/docker', 'v1', {
    format: 'docker',
    layers: [{ seed: 'conv-docker', size: 20_000 }],
  });
  const result = await copy(new CopyEngine({ manifestFormat: 'docker' }), 'convert/docker', 'v1');
  expect(result).toMatchObject({ status: 'copied', converted: false, destinationDigest: pushed.digest });
});

test('an OCI artifact cannot be converted and fails with the reason, writing no tag', async () => {
  const image = await pushImage(src, 'convert/artifact', 'base', {
    format: 'oci',
    layers: [{ seed: 'conv-artifact', size: 1000 }],
  });
  const artifact = await pushArtifact(src, 'convert/artifact', {
    subject: { mediaType: image.mediaType, digest: image.digest, size: image.size },
    artifactType: 'application/vnd.cncf.helm.config.v1+json',
    payload: Buffer.from('chart'),
  });
  const manifest = (await getManifest(src, 'convert/artifact', artifact.digest))!;
  const put = await call(src, {
    method: 'PUT',
    path: '/v2/convert/artifact/manifests/chart',
    repo: 'convert/artifact',
    headers: { 'content-type': manifest.mediaType },
    body: () => manifest.body,
  });
  expect(put.status).toBe(201);
  const result = await copy(new CopyEngine({ manifestFormat: 'docker' }), 'convert/artifact', 'chart');
  expect(result).toMatchObject({ status: 'failed', errorCode: 'CONVERSION_IMPOSSIBLE' });
  expect(result.reason).toMatch(/OCI artifact .*no Docker equivalent/);
  expect(await getManifest(dst, 'convert/artifact', 'chart')).toBeUndefined();
});

test('a zstd layer cannot be described in Docker formats: the image fails and says so', async () => {
  const image = await pushImage(src, 'convert/zstd', 'gzip', {
    format: 'oci',
    layers: [{ seed: 'conv-zstd', size: 1000 }],
  });
  const manifest = (await getManifest(src, 'convert/zstd', 'gzip'))!;
  const zstd = {
    ...manifest.json,
    layers: manifest.json.layers!.map((l) => ({
      ...l,
      mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd',
    })),
  };
  const put = await call(src, {
    method: 'PUT',
    path: '/v2/convert/zstd/manifests/zstd',
    repo: 'convert/zstd',
    headers: { 'content-type': image.mediaType },
    body: () => Buffer.from(JSON.stringify(zstd)),
  });
  expect(put.status).toBe(201);
  const result = await copy(new CopyEngine({ manifestFormat: 'docker' }), 'convert/zstd', 'zstd');
  expect(result).toMatchObject({ status: 'failed', errorCode: 'CONVERSION_IMPOSSIBLE' });
  expect(result.reason).toMatch(/tar\+zstd layer/);
});
