// The command line, built and run as a user runs it, against real registries: copy, copy-prefix, failures,
// usage errors, and a large layer copied with bounded memory.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { runCli } from '../harness/cli.js';
import { assertImageComplete, getManifest, listTags, pushImage, pushIndex } from '../harness/images.js';
import { startRegistry, type RunningRegistry } from '../harness/registry.js';

let src: RunningRegistry;
let dst: RunningRegistry;

beforeAll(async () => {
  [src, dst] = await Promise.all([startRegistry({ auth: 'htpasswd' }), startRegistry()]);
});

afterAll(async () => {
  await Promise.all([src?.stop(), dst?.stop()]);
});

const creds = () => ({ SRC_CREDS: `${src.username}:${src.password}` });

test('copy prints a summary, exits 0 and leaves the image complete at the destination', async () => {
  const pushed = await pushImage(src, 'cli/one', 'v1', {
    format: 'docker',
    layers: [{ seed: 'cli-one', size: 50_000 }],
  });
  const run = await runCli(
    ['copy', `${src.host}/cli/one:v1`, `${dst.host}/cli/renamed:v1`, '--insecure-src', '--insecure-dst'],
    creds(),
  );
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  expect(run.stdout).toMatch(/^1 copied, 0 skipped, 0 failed of 1 image; .* blobs 2 uploaded/m);
  expect((await getManifest(dst, 'cli/renamed', 'v1'))!.digest).toBe(pushed.digest);
});

test('copy --json reports digests and blob counts', async () => {
  await pushIndex(src, 'cli/multi', 'v2', {
    format: 'oci',
    images: [
      { platform: { os: 'linux', architecture: 'amd64' }, layers: [{ seed: 'cli-amd', size: 10_000 }] },
      { platform: { os: 'linux', architecture: 'arm64' }, layers: [{ seed: 'cli-arm', size: 10_000 }] },
    ],
  });
  const run = await runCli(
    ['copy', `${src.host}/cli/multi:v2`, `${dst.host}/cli/multi`, '--insecure-src', '--insecure-dst', '--json'],
    creds(),
  );
  expect(run.code).toBe(0);
  const { results } = JSON.parse(run.stdout) as {
    results: Array<{ status: string; platforms: string[]; manifestsPushed: number; destinationDigest: string }>;
  };
  expect(results[0].status).toBe('copied');
  expect(results[0].platforms.sort()).toEqual(['linux/amd64', 'linux/arm64']);
  expect(results[0].manifestsPushed).toBe(3);
  expect(results[0].destinationDigest).toBe((await getManifest(dst, 'cli/multi', 'v2'))!.digest);
});

test('copy-prefix copies every repository and tag under the prefix, and only those', async () => {
  for (const repo of ['team/a', 'team/b/c']) {
    for (const tag of ['1', '2'])
      await pushImage(src, repo, tag, { format: 'docker', layers: [{ seed: `${repo}-${tag}`, size: 20_000 }] });
  }
  await pushImage(src, 'other/x', '1', { format: 'docker', layers: [{ seed: 'other-x', size: 20_000 }] });
  const run = await runCli(
    ['copy-prefix', `${src.host}/team`, `${dst.host}/mirror`, '--insecure-src', '--insecure-dst'],
    creds(),
  );
  expect(run.code).toBe(0);
  expect(run.stdout).toMatch(/^4 copied, 0 skipped, 0 failed of 4 images/m);
  for (const repo of ['a', 'b/c']) {
    expect((await listTags(dst, `mirror/${repo}`)).sort()).toEqual(['1', '2']);
    await assertImageComplete(dst, `mirror/${repo}`, '2');
  }
  expect(await listTags(dst, 'mirror/x')).toEqual([]);
  expect(await listTags(dst, 'other/x')).toEqual([]);
});

describe('failures', () => {
  test('a missing tag exits 1 and says which image and what to check', async () => {
    const run = await runCli(
      ['copy', `${src.host}/cli/one:nope`, `${dst.host}/cli/one:nope`, '--insecure-src', '--insecure-dst'],
      creds(),
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${src.host}/cli/one:nope`);
    expect(run.stderr).toMatch(/MANIFEST_UNKNOWN.*check the tag/);
  });

  test('wrong source credentials exit 1 without echoing the password', async () => {
    const run = await runCli(
      ['copy', `${src.host}/cli/one:v1`, `${dst.host}/cli/one:v1`, '--insecure-src', '--insecure-dst'],
      { SRC_CREDS: 'tester:wrong-secret-value' },
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/credentials/);
    expect(run.stderr + run.stdout).not.toContain('wrong-secret-value');
  });

  test.each([
    [['copy', 'nginx:latest', '127.0.0.1:1/x:y'], /SRC must start with a registry host/],
    [['copy', '127.0.0.1:1/a:b', '127.0.0.1:1/x:y', '--platform', 'linux'], /not a platform/],
    [['copy', '127.0.0.1:1/a:b', '127.0.0.1:1/x:y', '--images', '0'], /--images must be a whole number/],
    [['copy', '127.0.0.1:1/a:b', '127.0.0.1:1/x:y', '--src-creds', 'nocolon'], /must be USER:PASSWORD/],
  ])('usage error %j exits 2 with the reason', async (args, message) => {
    const run = await runCli(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });
});

// Big enough that holding it would blow the limit; raise LARGE_BLOB_MB (e.g. 2048) for the full-size check.
const LARGE_MB = Number(process.env.LARGE_BLOB_MB ?? 256);

test(`a ${LARGE_MB} MiB layer streams through with peak RSS under 150 MB`, async () => {
  await pushImage(src, 'cli/large', 'v1', {
    format: 'docker',
    layers: [{ seed: 'cli-large', size: LARGE_MB * 1024 * 1024 }],
  });
  const run = await runCli(
    ['copy', `${src.host}/cli/large:v1`, `${dst.host}/cli/large:v1`, '--insecure-src', '--insecure-dst'],
    creds(),
  );
  expect(run.code).toBe(0);
  expect(run.peakRss).toBeGreaterThan(0);
  expect(run.peakRss).toBeLessThan(150 * 1024 * 1024);
  await assertImageComplete(dst, 'cli/large', 'v1', { verifyContent: true });
}, 300_000);
