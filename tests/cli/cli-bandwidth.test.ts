// --max-bandwidth on the built command line, against real registries: a cap copies the image whole, a value
// that is not a bandwidth is a usage error naming the accepted forms, before anything is copied.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { runCli } from '../harness/cli.js';
import { getManifest, pushImage } from '../harness/images.js';
import { startRegistry, type RunningRegistry } from '../harness/registry.js';

let src: RunningRegistry;
let dst: RunningRegistry;

beforeAll(async () => {
  [src, dst] = await Promise.all([startRegistry(), startRegistry()]);
});

afterAll(async () => {
  await Promise.all([src?.stop(), dst?.stop()]);
});

test('copy --max-bandwidth 10MB/s copies the image whole', async () => {
  const pushed = await pushImage(src, 'clibw/one', 'v1', {
    format: 'docker',
    layers: [{ seed: 'clibw-one', size: 300_000 }],
  });
  const run = await runCli([
    'copy',
    `${src.host}/clibw/one:v1`,
    `${dst.host}/clibw/one:v1`,
    '--insecure-src',
    '--insecure-dst',
    '--max-bandwidth',
    '10MB/s',
  ]);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  expect((await getManifest(dst, 'clibw/one', 'v1'))!.digest).toBe(pushed.digest);
});

test.each(['copy', 'copy-prefix'])(
  '%s --max-bandwidth 20 is a usage error with the accepted forms',
  async (command) => {
    const run = await runCli([
      command,
      `${src.host}/clibw/one${command === 'copy' ? ':v1' : ''}`,
      `${dst.host}/clibw/two`,
      '--insecure-src',
      '--insecure-dst',
      '--max-bandwidth',
      '20',
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('error: --max-bandwidth must be 0 (unlimited) or a number with a unit per second');
    expect(run.stderr).toContain('e.g. 20MB/s, 100Mbit/s');
    expect(await getManifest(dst, 'clibw/two', 'v1')).toBeUndefined();
  },
);
