// Checks the image fixture builder against a real registry: determinism of layers, complete
// pushes, and that assertImageComplete really notices damage.
import { execFileSync } from 'node:child_process';
import { rm, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { startRegistry, type RunningRegistry } from '../harness/registry.js';
import { layerStream } from '../harness/layers.js';
import {
  DOCKER_LIST,
  DOCKER_MANIFEST,
  OCI_INDEX,
  OCI_MANIFEST,
  assertImageComplete,
  blobPath,
  getManifest,
  layerBlobSize,
  layerDigest,
  listTags,
  pushArtifact,
  pushImage,
  pushIndex,
} from '../harness/images.js';

const amd64 = { os: 'linux', architecture: 'amd64' };
const arm64 = { os: 'linux', architecture: 'arm64', variant: 'v8' };

describe('synthetic layers', () => {
  test('same seed and size give the same digest, a different seed a different one', async () => {
    const a = await layerDigest({ size: 200_000, seed: 'same' });
    const b = await layerDigest({ size: 200_000, seed: 'same' });
    const c = await layerDigest({ size: 200_000, seed: 'other' });
    expect(b).toEqual(a);
    expect(c.digest).not.toBe(a.digest);
    expect(a.size).toBe(layerBlobSize({ size: 200_000, seed: 'same' }));
  });

  test('a layer is a valid, incompressible tar.gz holding one file of the requested size', async () => {
    const file = join(tmpdir(), `fixture-layer-${process.pid}.tar.gz`);
    try {
      await pipeline(layerStream({ size: 100_001, seed: 'tar' }), createWriteStream(file));
      const listing = execFileSync('tar', ['-tvzf', file], { encoding: 'utf8' });
      expect(listing).toMatch(/\s100001\s.*layer\.bin/);
      const recompressed = execFileSync('sh', ['-c', `gzip -dc '${file}' | gzip -9 | wc -c`], { encoding: 'utf8' });
      expect(Number(recompressed)).toBeGreaterThan(100_000);
    } finally {
      await rm(file, { force: true });
    }
  });
});

describe('pushing to a real registry', () => {
  let reg: RunningRegistry;
  beforeAll(async () => {
    reg = await startRegistry();
  });
  afterAll(async () => {
    await reg?.stop();
  });

  test('pushImage by tag then assertImageComplete passes, for both formats', async () => {
    for (const format of ['docker', 'oci'] as const) {
      const repo = `proj/${format}-img`;
      const pushed = await pushImage(reg, repo, 'v1', {
        format,
        layers: [
          { size: 70_000, seed: `${format}-1` },
          { size: 1024, seed: 'shared' },
        ],
      });
      const got = await getManifest(reg, repo, 'v1');
      expect(got?.digest).toBe(pushed.digest);
      expect(got?.mediaType).toBe(format === 'docker' ? DOCKER_MANIFEST : OCI_MANIFEST);
      expect(got?.json.layers).toHaveLength(2);
      await assertImageComplete(reg, repo, 'v1', { verifyContent: true });
      await assertImageComplete(reg, repo, pushed.digest);
    }
  });

  test('a deleted blob and a truncated blob are both reported', async () => {
    const repo = 'proj/damaged';
    const pushed = await pushImage(reg, repo, 'latest', {
      format: 'oci',
      layers: [
        { size: 5000, seed: 'damage-1' },
        { size: 5000, seed: 'damage-2' },
      ],
    });
    const [first, second] = pushed.layers;
    await rm(blobPath(reg.storageDir, first.digest));
    await truncate(blobPath(reg.storageDir, second.digest), 100);
    const failure = assertImageComplete(reg, repo, 'latest');
    await expect(failure).rejects.toThrow(first.digest);
    await expect(failure).rejects.toThrow(second.digest);
  });

  test('a blob corrupted in place is caught only with verifyContent', async () => {
    const repo = 'proj/flipped';
    const pushed = await pushImage(reg, repo, 'latest', { format: 'docker', layers: [{ size: 4096, seed: 'flip' }] });
    const path = blobPath(reg.storageDir, pushed.layers[0].digest);
    execFileSync('sh', ['-c', `printf 'XXXX' | dd of='${path}' bs=1 seek=600 conv=notrunc status=none`]);
    await assertImageComplete(reg, repo, 'latest');
    await expect(assertImageComplete(reg, repo, 'latest', { verifyContent: true })).rejects.toThrow(
      /content hashes to/,
    );
  });

  test('pushIndex: the index is tagged and every child is reachable by digest with its platform', async () => {
    for (const format of ['docker', 'oci'] as const) {
      const repo = `proj/${format}-multi`;
      const pushed = await pushIndex(reg, repo, 'multi', {
        format,
        images: [
          { platform: amd64, layers: [{ size: 3000, seed: 'multi-amd64' }] },
          { platform: arm64, layers: [{ size: 3000, seed: 'multi-arm64' }] },
        ],
      });
      const index = await getManifest(reg, repo, 'multi');
      expect(index?.digest).toBe(pushed.digest);
      expect(index?.mediaType).toBe(format === 'docker' ? DOCKER_LIST : OCI_INDEX);
      expect(pushed.children.map((c) => c.platform)).toEqual([amd64, arm64]);
      for (const child of pushed.children) {
        expect((await getManifest(reg, repo, child.digest))?.digest).toBe(child.digest);
      }
      await assertImageComplete(reg, repo, 'multi');
      // Removing one child's only layer must surface in the walk from the index.
      const childManifest = await getManifest(reg, repo, pushed.children[1].digest);
      await rm(blobPath(reg.storageDir, childManifest!.json.layers![0].digest));
      await expect(assertImageComplete(reg, repo, 'multi')).rejects.toThrow(/linux\/arm64\/v8/);
    }
  });

  test('listTags returns every tag and nothing for an unknown repository', async () => {
    const repo = 'proj/tags';
    for (const tag of ['a', 'b', 'c']) {
      await pushImage(reg, repo, tag, { format: 'oci', layers: [{ size: 100, seed: 'tags' }], labels: { tag } });
    }
    expect((await listTags(reg, repo)).sort()).toEqual(['a', 'b', 'c']);
    expect(await listTags(reg, 'proj/none')).toEqual([]);
  });

  test('pushArtifact stores an OCI artifact with subject and artifactType, also under the fallback tag', async () => {
    const repo = 'proj/signed';
    const image = await pushImage(reg, repo, 'v1', { format: 'oci', layers: [{ size: 100, seed: 'signed' }] });
    const artifact = await pushArtifact(reg, repo, {
      subject: image,
      artifactType: 'application/vnd.example.sbom.v1+json',
      payload: Buffer.from('{"sbom":true}'),
      fallbackTag: true,
    });
    const got = await getManifest(reg, repo, artifact.digest);
    expect(got?.json.artifactType).toBe('application/vnd.example.sbom.v1+json');
    expect(got?.json.subject!.digest).toBe(image.digest);
    const byTag = await getManifest(reg, repo, image.digest.replace(':', '-'));
    expect(byTag?.digest).toBe(artifact.digest);
    await assertImageComplete(reg, repo, artifact.digest, { verifyContent: true });
  });
});

describe('auth', () => {
  for (const auth of ['htpasswd', 'token'] as const) {
    test(`pushImage and assertImageComplete work against a ${auth} registry`, async () => {
      const reg = await startRegistry({ auth });
      try {
        const pushed = await pushImage(reg, 'proj/auth', 'v1', { format: 'oci', layers: [{ size: 2000, seed: auth }] });
        await assertImageComplete(reg, 'proj/auth', 'v1');
        expect((await getManifest(reg, 'proj/auth', 'v1'))?.digest).toBe(pushed.digest);
        await expect(assertImageComplete({ url: reg.url, auth: 'none' }, 'proj/auth', 'v1')).rejects.toThrow(/401/);
      } finally {
        await reg.stop();
      }
    });
  }
});
