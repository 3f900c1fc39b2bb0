// The log files a command-line `sync` leaves, as the service's: <project>-success.log lists images synced and
// nothing else (the old tool's file), skips go to <project>-running.log; a sync that fails as a whole says so
// in running.log and <project>-running.log, in the service's line format.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { runCli } from '../harness/cli.js';
import { startHarbor, type HarborStandIn } from '../harness/harbor/index.js';
import { pushImage, type PushedImage } from '../harness/images.js';
import { startRegistry, type RunningRegistry } from '../harness/registry.js';
import { testServiceConfig } from '../harness/service.js';

let harbor: HarborStandIn;
let dst: RunningRegistry;
let dir: string;
let image: PushedImage;

beforeAll(async () => {
  [harbor, dst] = await Promise.all([startHarbor({ projects: [{ name: 'proj', public: false }] }), startRegistry()]);
  dir = await mkdtemp(join(tmpdir(), 'swr-harbor-sync-cli-logs-'));
  image = await pushImage(harbor.access, 'proj/app', 'v1', {
    format: 'docker',
    layers: [{ seed: 'cli-logs-1', size: 10_000 }],
  });
});

afterAll(async () => {
  await Promise.all([harbor?.stop(), dst?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function sync(logDir: string, extra: Record<string, string> = {}) {
  const conf = { ...(await testServiceConfig(harbor.host, dst.host, logDir, join(dir, 'data'))), ...extra };
  const path = join(dir, `app-${Math.random().toString(36).slice(2)}.conf`);
  await writeFile(
    path,
    Object.entries(conf)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n'),
  );
  return runCli(['sync', '--project', 'proj'], { CONFIG_FILE: path, PATH: process.env.PATH ?? '/usr/bin:/bin' });
}

const lines = async (logDir: string, file: string) =>
  (await readFile(join(logDir, file), 'utf8')).split('\n').filter((line) => line !== '');

test('<project>-success.log gets the image synced, not the same image found there by the next sync, and a replaced tag', async () => {
  const logDir = join(dir, 'logs-success');
  expect((await sync(logDir)).code).toBe(0);
  const synced = `${harbor.host}/proj/app:v1 -> ${dst.host}/mirror/app:v1 ${image.digest}`;
  expect(await lines(logDir, 'proj-success.log')).toEqual([expect.stringMatching(new RegExp(` INFO ${synced}$`))]);

  const again = await sync(logDir);
  expect(again.code).toBe(0);
  expect(again.stdout).toMatch(/^0 copied, 1 skipped/m);
  // The no-op sync added nothing to the success log; its skip is in the project's running log.
  expect(await lines(logDir, 'proj-success.log')).toHaveLength(1);
  expect(await lines(logDir, 'proj-running.log')).toContainEqual(
    expect.stringMatching(/ INFO skipped .*mirror\/app:v1 .*\(destination already has this digest\)/),
  );

  // A tag replaced is an image synced.
  const rebuilt = await pushImage(harbor.access, 'proj/app', 'v1', {
    format: 'docker',
    layers: [{ seed: 'cli-logs-2', size: 10_000 }],
  });
  expect((await sync(logDir, { ImageOverwrite: 'true' })).code).toBe(0);
  expect(await lines(logDir, 'proj-success.log')).toEqual([
    expect.stringMatching(new RegExp(` INFO ${synced}$`)),
    expect.stringMatching(
      new RegExp(` INFO ${harbor.host}/proj/app:v1 -> ${dst.host}/mirror/app:v1 ${rebuilt.digest}$`),
    ),
  ]);
});

test('a sync that fails as a whole is logged where the service logs it: running.log and <project>-running.log', async () => {
  const logDir = join(dir, 'logs-failed');
  const run = await sync(logDir, { HarborPassword: 'Wrong-Secret-9876' });
  expect(run.code).toBe(1);
  const refused = `Harbor refused the credentials (HarborUser/HarborPassword) for http://${harbor.host}/api/v2.0/projects/proj/repositories`;
  expect(run.stderr).toBe(`error: ${refused}\n`);
  const timestamp = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z';
  expect(await lines(logDir, 'running.log')).toEqual([
    expect.stringMatching(new RegExp(`^${timestamp} INFO started from the command line: project proj -> mirror$`)),
    expect.stringMatching(new RegExp(`^${timestamp} ERROR failed: ${escape(refused)}$`)),
  ]);
  expect(await lines(logDir, 'proj-running.log')).toEqual([
    expect.stringMatching(
      new RegExp(
        `^${timestamp} ERROR project sync of proj into ${escape(dst.host)}/mirror failed: ${escape(refused)}$`,
      ),
    ),
  ]);
  expect(await lines(logDir, 'proj-success.log')).toEqual([]);
  const everything = (await Promise.all(['running.log', 'proj-running.log'].map((f) => lines(logDir, f)))).join('\n');
  expect(everything).not.toContain('Wrong-Secret-9876');
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
