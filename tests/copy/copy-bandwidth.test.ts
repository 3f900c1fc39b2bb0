// MaxBandwidth through the copy engine between two real registries: every byte streamed to the destination is
// granted by the engine's limiter (and nothing else is), transfers running at once draw from the one budget,
// mounts and skips cost none of it, and a run stopped while a transfer waits for its share stops at once.
// Figures of time belong to `npm run bench:bandwidth`; these assert bytes granted and waits made.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { ByteBucket, CopyEngine, RunState, type ImageResult } from '../../src/copy/index.js';
import { systemClock, type RegistryClient } from '../../src/oci/index.js';
import { clientFor } from '../harness/clients.js';
import { assertImageComplete, getManifest, pushImage, type PushedImage } from '../harness/images.js';
import { startRegistry, type RunningRegistry } from '../harness/registry.js';
import { until } from '../harness/until.js';

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

/** A cap of 8 MB/s with a burst of one 64 KiB read: a layer of a few hundred kB has to wait for its share. */
const capped = () => new ByteBucket(8_000_000, systemClock, 64 * 1024);

function copy(engine: CopyEngine, repo: string, dstRepo = repo, run?: RunState): Promise<ImageResult> {
  return engine.copyImage(
    { client: srcClient, repository: repo, reference: 'v1' },
    { client: dstClient, repository: dstRepo, tag: 'v1' },
    run,
  );
}

const blobBytes = (image: PushedImage) => image.config.size + image.layers.reduce((sum, l) => sum + l.size, 0);

test('every byte of every blob uploaded is granted by the cap, in waits, and the image arrives whole', async () => {
  const pushed = await pushImage(src, 'bw/one', 'v1', {
    format: 'docker',
    layers: [
      { seed: 'bw-one-a', size: 600_000 },
      { seed: 'bw-one-b', size: 300_000 },
    ],
  });
  const bandwidth = capped();
  const result = await copy(new CopyEngine({}, undefined, { bandwidth }), 'bw/one');
  expect(result).toMatchObject({ status: 'copied', blobsUploaded: 3 });
  expect(bandwidth.stats.grantedBytes).toBe(blobBytes(pushed));
  // 900 kB past a 64 KiB burst cannot go through without waiting.
  expect(bandwidth.stats.waits).toBeGreaterThan(0);
  expect((await getManifest(dst, 'bw/one', 'v1'))!.digest).toBe(pushed.digest);
  await assertImageComplete(dst, 'bw/one', 'v1');
});

test('two images copied at once draw from one budget; a mount elsewhere costs none of it', async () => {
  const images = await Promise.all(
    ['left', 'right'].map((side) =>
      pushImage(src, `bw/${side}`, 'v1', { format: 'oci', layers: [{ seed: `bw-${side}`, size: 400_000 }] }),
    ),
  );
  const bandwidth = capped();
  const engine = new CopyEngine({}, undefined, { bandwidth });
  const results = await Promise.all([copy(engine, 'bw/left'), copy(engine, 'bw/right')]);
  expect(results.map((r) => r.status)).toEqual(['copied', 'copied']);
  expect(bandwidth.stats.grantedBytes).toBe(blobBytes(images[0]) + blobBytes(images[1]));
  expect(bandwidth.stats.waits).toBeGreaterThan(0);

  const granted = bandwidth.stats.grantedBytes;
  const mounted = await copy(engine, 'bw/left', 'bw/left-again');
  expect(mounted).toMatchObject({ status: 'copied', blobsUploaded: 0 });
  expect(bandwidth.stats.grantedBytes).toBe(granted);
  await assertImageComplete(dst, 'bw/left-again', 'v1');
});

test('a run stopped while its transfer waits for bandwidth fails at once, with the rest of the layer unsent', async () => {
  const pushed = await pushImage(src, 'bw/slow', 'v1', {
    format: 'docker',
    layers: [{ seed: 'bw-slow', size: 2_000_000 }],
  });
  // 2 MB at 100 kB/s would take 20 s: the run is stopped as soon as the transfer has waited once.
  const bandwidth = new ByteBucket(100_000, systemClock, 64 * 1024);
  const stop = new AbortController();
  const copying = copy(
    new CopyEngine({ blobRetries: 0 }, undefined, { bandwidth }),
    'bw/slow',
    'bw/slow',
    new RunState(stop.signal),
  );
  await until(
    'the transfer to wait for bandwidth',
    async () => (bandwidth.stats.waits > 0 ? true : undefined),
    10_000,
    5,
  );
  stop.abort(new Error('job cancelled by the operator'));
  const result = await copying;
  expect(result.status).toBe('failed');
  expect(result.reason).toContain('job cancelled by the operator');
  expect(bandwidth.stats.grantedBytes).toBeLessThan(pushed.layers[0].size);
  expect(await getManifest(dst, 'bw/slow', 'v1')).toBeUndefined();
});
