// Filters in the built command: `sync --dry-run` says which rule leaves each image out, `sync` copies the rest,
// and `check-config` refuses IncludeLabels against Harbor 1.x, which cannot list labels. A Harbor stand-in
// (2.3, and 1.10) over a real registry, and a real destination registry.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { runCli } from '../harness/cli.js';
import { startHarbor, type HarborStandIn } from '../harness/harbor/index.js';
import { assertImageComplete, listTags, pushImage } from '../harness/images.js';
import { startRegistry, type RunningRegistry } from '../harness/registry.js';
import { testServiceConfig } from '../harness/service.js';

let harbor: HarborStandIn;
let dst: RunningRegistry;
let dir: string;
let conf: Record<string, string>;

beforeAll(async () => {
  [harbor, dst] = await Promise.all([startHarbor({ projects: [{ name: 'proj', public: false }] }), startRegistry()]);
  dir = await mkdtemp(join(tmpdir(), 'swr-harbor-sync-cli-filters-'));
  conf = await testServiceConfig(harbor.host, dst.host, join(dir, 'logs'), join(dir, 'data'));
  for (const [repo, tag] of [
    ['proj/app', 'v1.0'],
    ['proj/app', 'v1.1-rc1'],
    ['proj/legacy/app', 'v0.9'],
  ])
    await pushImage(harbor.access, repo, tag, { format: 'docker', layers: [{ seed: `${repo}:${tag}`, size: 8_000 }] });
});

afterAll(async () => {
  await Promise.all([harbor?.stop(), dst?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function cli(args: string[], extra: Record<string, string> = {}) {
  const path = join(dir, `app-${Math.random().toString(36).slice(2)}.conf`);
  await writeFile(
    path,
    `${Object.entries({ ...conf, ...extra })
      .map(([k, v]) => `${k}=${v}`)
      .join('\n')}\n`,
  );
  return runCli(args, { CONFIG_FILE: path, PATH: process.env.PATH ?? '/usr/bin:/bin' });
}

const RULES = { ExcludeTags: 'proj:*-rc*', ExcludeRepositories: 'proj:legacy/**' };

describe('sync', () => {
  test('--dry-run names the rule that leaves each image out', async () => {
    const run = await cli(['sync', '--project', 'proj', '--dry-run'], RULES);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout.trim().split('\n')).toEqual(
      expect.arrayContaining([
        `plan    ${dst.host}/mirror/legacy/app: skipped: ExcludeRepositories proj:legacy/**`,
        `plan    ${dst.host}/mirror/app:v1.1-rc1: skipped: ExcludeTags proj:*-rc*`,
        `plan    ${dst.host}/mirror/app:v1.0: dry run: would copy`,
      ]),
    );
    expect(await listTags(dst, 'mirror/app')).toEqual([]);
  });

  test('a sync copies only what the rules select', async () => {
    const run = await cli(['sync', '--project', 'proj'], RULES);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`skipped ${dst.host}/mirror/app:v1.1-rc1: skipped: ExcludeTags proj:*-rc*`);
    expect(await listTags(dst, 'mirror/app')).toEqual(['v1.0']);
    await assertImageComplete(dst, 'mirror/app', 'v1.0');
    expect(await listTags(dst, 'mirror/legacy/app')).toEqual([]);
  });

  test('a bad pattern stops the command with the key, the pattern and its project', async () => {
    const run = await cli(['sync', '--project', 'proj', '--dry-run'], { IncludeTags: 'proj:{v1' });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(
      'IncludeTags: the pattern "{v1" of project proj has a { without its } (write \\{ for the character itself)',
    );
  });
});

test('check-config refuses IncludeLabels against Harbor 1.x, naming the rule, since labels cannot be read there', async () => {
  const old = await startHarbor({ version: '1.10', projects: [{ name: 'proj', public: false }] });
  try {
    const run = await cli(['check-config'], { HarborAddr: old.host, IncludeLabels: 'proj:prod' });
    expect(run.code).not.toBe(0);
    expect(run.stdout + run.stderr).toContain(
      `IncludeLabels proj:prod needs artifact labels, which only Harbor 2.x's API lists, and http://${old.host} is`,
    );
    // Without the rule the same Harbor passes that check.
    const without = await cli(['check-config'], { HarborAddr: old.host });
    expect(without.stdout + without.stderr).not.toContain('needs artifact labels');
  } finally {
    await old.stop();
  }
});
