// The copy engine against two real registries: every manifest type, multi-arch, skips, overwrite,
// platform filter, shared layers mounted across repositories, and referrers through the fallback tag.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { CopyEngine, type ImageResult } from '../../src/copy/index.js';
import type { RegistryClient } from '../../src/oci/index.js';
import { clientFor } from '../harness/clients.js';
import {
  assertImageComplete,
  getManifest,
  listTags,
  OCI_INDEX,
  pushArtifact,
  pushImage,
  pushIndex,
  type LayerSpec,
} from '../harness/images.js';
import { call } from '../harness/registry-http.js';
import { startRegistry, type RunningRegistry } from '../harness/registry.js';

const amd64 = { os: 'linux', architecture: 'amd64' };
const arm64 = { os: 'linux', architecture: 'arm64', variant: 'v8' };
const layer = (seed: string, size = 40_000): LayerSpec => ({ seed, size });

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

function copy(engine: CopyEngine, repo: string, tag: string, dstRepo = repo, dstTag = tag): Promise<ImageResult> {
  return engine.copyImage(
    { client: srcClient, repository: repo, reference: tag },
    { client: dstClient, repository: dstRepo, tag: dstTag },
  );
}

async function expectSameDigest(repo: string, tag: string, dstRepo = repo): Promise<string> {
  const [a, b] = await Promise.all([getManifest(src, repo, tag), getManifest(dst, dstRepo, tag)]);
  expect(b?.digest).toBeDefined();
  expect(b!.digest).toBe(a!.digest);
  await assertImageComplete(dst, dstRepo, tag);
  return b!.digest;
}

describe('every manifest type', () => {
  test.each([
    ['docker', 'formats/docker-image'],
    ['oci', 'formats/oci-image'],
  ] as const)('%s image manifest copies with its digest unchanged', async (format, repo) => {
    await pushImage(src, repo, 'v1', { format, layers: [layer(`${repo}-a`), layer(`${repo}-b`)] });
    const result = await copy(new CopyEngine(), repo, 'v1');
    expect(result.status).toBe('copied');
    expect(result.blobsUploaded).toBe(3);
    expect(result.manifestsPushed).toBe(1);
    expect(result.destinationDigest).toBe(await expectSameDigest(repo, 'v1'));
  });

  test.each([
    ['docker', 'formats/docker-list'],
    ['oci', 'formats/oci-index'],
  ] as const)('%s multi-arch index copies every platform', async (format, repo) => {
    const pushed = await pushIndex(src, repo, 'multi', {
      format,
      images: [
        { platform: amd64, layers: [layer(`${repo}-amd`)] },
        { platform: arm64, layers: [layer(`${repo}-arm`)] },
      ],
    });
    const result = await copy(new CopyEngine(), repo, 'multi');
    expect(result.status).toBe('copied');
    expect(result.manifestsPushed).toBe(3);
    expect(result.platforms.sort()).toEqual(['linux/amd64', 'linux/arm64/v8']);
    expect(await expectSameDigest(repo, 'multi')).toBe(pushed.digest);
    for (const child of pushed.children) await assertImageComplete(dst, repo, child.digest);
  });
});

describe('skips and overwrite', () => {
  test('an identical destination is left alone and nothing is transferred', async () => {
    await pushImage(src, 'skip/same', 'v1', { format: 'docker', layers: [layer('skip-same')] });
    const engine = new CopyEngine();
    expect((await copy(engine, 'skip/same', 'v1')).status).toBe('copied');
    const again = await copy(new CopyEngine(), 'skip/same', 'v1');
    expect(again.status).toBe('skipped');
    expect(again.reason).toMatch(/already has this digest/);
    expect(again.bytesUploaded + again.blobsUploaded + again.blobsMounted + again.manifestsPushed).toBe(0);
  });

  test('a different destination tag is kept without overwrite and replaced with it', async () => {
    await pushImage(src, 'skip/differs', 'v1', { format: 'docker', layers: [layer('differs-src')] });
    const theirs = await pushImage(dst, 'skip/differs', 'v1', { format: 'docker', layers: [layer('differs-dst')] });
    const kept = await copy(new CopyEngine({ overwrite: false }), 'skip/differs', 'v1');
    expect(kept.status).toBe('skipped');
    expect(kept.reason).toMatch(/overwrite is off/);
    expect((await getManifest(dst, 'skip/differs', 'v1'))!.digest).toBe(theirs.digest);

    const replaced = await copy(new CopyEngine({ overwrite: true }), 'skip/differs', 'v1');
    expect(replaced.status).toBe('copied');
    await expectSameDigest('skip/differs', 'v1');
  });
});

describe('platform filter', () => {
  test('one platform makes the tag point at that platform image', async () => {
    const pushed = await pushIndex(src, 'filter/one', 'multi', {
      format: 'oci',
      images: [
        { platform: amd64, layers: [layer('filter-amd')] },
        { platform: arm64, layers: [layer('filter-arm')] },
      ],
    });
    const result = await copy(new CopyEngine({ platforms: ['linux/arm64'] }), 'filter/one', 'multi');
    expect(result.status).toBe('copied');
    const arm = pushed.children.find((c) => c.platform.architecture === 'arm64')!;
    expect((await getManifest(dst, 'filter/one', 'multi'))!.digest).toBe(arm.digest);
    expect(result.blobsUploaded).toBe(2);
  });

  test('a platform the index lacks fails and names the ones it has', async () => {
    await pushIndex(src, 'filter/none', 'multi', {
      format: 'docker',
      images: [{ platform: amd64, layers: [layer('filter-none')] }],
    });
    const result = await copy(new CopyEngine({ platforms: ['linux/s390x'] }), 'filter/none', 'multi');
    expect(result.status).toBe('failed');
    expect(result.reason).toContain('linux/amd64');
    expect(await listTags(dst, 'filter/none')).toEqual([]);
  });
});

describe('shared layers', () => {
  test('a layer already in a sibling repository is mounted, not sent again', async () => {
    const shared = layer('shared-base', 300_000);
    await pushImage(src, 'shared/one', 'v1', { format: 'docker', layers: [shared, layer('shared-one')] });
    await pushImage(src, 'shared/two', 'v1', { format: 'docker', layers: [shared, layer('shared-two')] });
    const engine = new CopyEngine();
    const first = await copy(engine, 'shared/one', 'v1');
    const second = await copy(engine, 'shared/two', 'v1');
    expect(first.blobsUploaded).toBe(3);
    expect(second.blobsMounted).toBe(1);
    expect(second.blobsUploaded).toBe(2);
    expect(second.bytesUploaded).toBeLessThan(300_000);
    await expectSameDigest('shared/two', 'v1');
  });

  test('images copied at once upload a shared layer once', async () => {
    const shared = layer('parallel-base', 500_000);
    const repos = ['par/a', 'par/b', 'par/c', 'par/d'];
    for (const repo of repos)
      await pushImage(src, repo, 'v1', { format: 'oci', layers: [shared, layer(`${repo}-own`)] });
    const engine = new CopyEngine({ maxImagesInFlight: 4 });
    const results = await engine.copyImages(
      repos.map((repository) => ({
        source: { client: srcClient, repository, reference: 'v1' },
        destination: { client: dstClient, repository, tag: 'v1' },
      })),
    );
    expect(results.every((r) => r.status === 'copied')).toBe(true);
    const sharedBytes = results.reduce((sum, r) => sum + r.bytesUploaded, 0);
    // 4 own layers (~40 KB) + 4 configs + the shared layer once.
    expect(sharedBytes).toBeLessThan(500_000 + 4 * 60_000);
    expect(results.reduce((sum, r) => sum + r.blobsMounted, 0)).toBe(3);
    for (const repo of repos) await expectSameDigest(repo, 'v1');
  });
});

describe('referrers', () => {
  test('a signature found through the sha256-<hex> fallback tag is copied with the image', async () => {
    const image = await pushImage(src, 'refs/signed', 'v1', { format: 'oci', layers: [layer('refs-signed')] });
    const signature = await pushArtifact(src, 'refs/signed', {
      subject: { mediaType: image.mediaType, digest: image.digest, size: image.size },
      artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json',
      payload: Buffer.from('{"critical":{}}'),
    });
    // OCI 1.1 fallback for registries without the referrers API: an index of the referrers, tagged sha256-<hex>.
    const fallbackIndex = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [signature] }),
    );
    const put = await call(src, {
      method: 'PUT',
      path: `/v2/refs/signed/manifests/${image.digest.replace(':', '-')}`,
      repo: 'refs/signed',
      headers: { 'content-type': OCI_INDEX },
      body: () => fallbackIndex,
    });
    expect(put.status).toBe(201);
    const result = await copy(new CopyEngine({ referrers: true }), 'refs/signed', 'v1');
    expect(result.status).toBe('copied');
    expect(result.referrersCopied).toBe(1);
    const fallback = `${image.digest.replace(':', '-')}`;
    expect(await listTags(dst, 'refs/signed')).toEqual(expect.arrayContaining(['v1', fallback]));
    await assertImageComplete(dst, 'refs/signed', signature.digest);
  });
});
