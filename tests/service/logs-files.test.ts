// The log files under load: per-project files are closed when idle or beyond the open-file cap and reopened
// to append (200 projects do not hold 400 descriptors), and files rotate by size with a bound on how many
// are kept. Real files in a temporary LogDir; descriptors counted in /proc/self/fd.
import { readdirSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from '@jest/globals';
import { ConfigError, parseConfig } from '../../src/config/config.js';
import { createLogs, type Logs } from '../../src/logging/logs.js';
import { Redactor } from '../../src/logging/redact.js';
import { until } from '../harness/until.js';

const PROJECTS = 200;
/** 50 projects' two files, running.log, and slack for what else this process opens meanwhile. */
const OPEN_FILE_CAP = 100;
const SLACK = 10;

let dir: string;
let logs: Logs | undefined;

const openDescriptors = () => readdirSync('/proc/self/fd').length;
const lines = async (file: string) => (await readFile(join(dir, file), 'utf8')).split('\n').filter((l) => l.length > 0);

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'swr-harbor-sync-logs-'));
});

afterEach(async () => {
  await logs?.close();
  logs = undefined;
  await rm(dir, { recursive: true, force: true });
});

test(`${PROJECTS} projects logged: open descriptors stay under the cap, every line is in its file, reopened files append`, async () => {
  const before = openDescriptors();
  logs = createLogs(dir, new Redactor(), { console: false });
  for (let i = 0; i < PROJECTS; i++) {
    logs.project(`p${i}`).running.info(`first line of p${i}`);
    logs.project(`p${i}`).success.info(`p${i}/app:v1 synced`);
  }
  // Every line on disk first (files closed for the cap were flushed before closing), then the count.
  await until(
    'every project file written',
    async () => {
      for (let i = 0; i < PROJECTS; i++) {
        const ok = await Promise.all([lines(`p${i}-running.log`), lines(`p${i}-success.log`)]).then(
          ([r, s]) => r.length === 1 && s.length === 1,
          () => false,
        );
        if (!ok) return undefined;
      }
      return true;
    },
    20_000,
  );
  const settled = await until(
    'descriptors under the cap',
    async () => {
      const n = openDescriptors() - before;
      return n <= OPEN_FILE_CAP + 1 + SLACK ? n : undefined;
    },
    10_000,
  );
  console.log(`${PROJECTS} projects logged (2 files each): ${settled} descriptors more than before (${before} before)`);
  // The cap is about closing the others, not about having none open: the newest projects' files are open.
  expect(settled).toBeGreaterThanOrEqual(OPEN_FILE_CAP / 2);

  // The first projects' files were closed for the cap: their next lines open them again and append.
  for (let i = 0; i < 10; i++) logs.project(`p${i}`).running.info(`second line of p${i}`);
  expect(openDescriptors() - before).toBeLessThanOrEqual(OPEN_FILE_CAP + 1 + SLACK);
  await logs.close();
  logs = undefined;
  for (let i = 0; i < PROJECTS; i++) {
    const running = (await lines(`p${i}-running.log`)).map((l) => l.replace(/^\S+ INFO /, ''));
    expect({ i, running }).toEqual({
      i,
      running: i < 10 ? [`first line of p${i}`, `second line of p${i}`] : [`first line of p${i}`],
    });
    expect(await lines(`p${i}-success.log`)).toHaveLength(1);
  }
  expect(openDescriptors() - before).toBeLessThanOrEqual(SLACK);
});

test('a project file idle for the idle time is closed; its next line reopens it and appends', async () => {
  const before = openDescriptors();
  logs = createLogs(dir, new Redactor(), { console: false, openFiles: { idleMs: 2000, maxOpen: 100 } });
  for (let i = 0; i < 20; i++) logs.project(`idle${i}`).running.info(`before the pause ${i}`);
  await until('the first lines written', async () =>
    (await Promise.all(Array.from({ length: 20 }, (_, i) => lines(`idle${i}-running.log`).catch(() => [])))).every(
      (l) => l.length === 1,
    )
      ? true
      : undefined,
  );
  // Open while in use (40 files: running and success of 20 projects)...
  expect(openDescriptors() - before).toBeGreaterThanOrEqual(40);
  // ...and closed after 2 s without a line (the sweep runs every second); only running.log stays.
  await until(
    'idle project files closed',
    async () => (openDescriptors() - before <= 1 + SLACK ? true : undefined),
    20_000,
  );
  expect(openDescriptors() - before).toBeLessThan(40);
  for (let i = 0; i < 20; i++) logs.project(`idle${i}`).running.info(`after the pause ${i}`);
  await logs.close();
  logs = undefined;
  for (let i = 0; i < 20; i++) {
    expect((await lines(`idle${i}-running.log`)).map((l) => l.replace(/^\S+ INFO /, ''))).toEqual([
      `before the pause ${i}`,
      `after the pause ${i}`,
    ]);
  }
});

test('rotation: past the size the file is renamed and a new one started; at most LogMaxFiles files are kept', async () => {
  const maxBytes = 64 * 1024;
  logs = createLogs(dir, new Redactor(), { console: false, rotation: { maxBytes, maxFiles: 3 } });
  const line = (i: number) => `line ${String(i).padStart(6, '0')} ${'x'.repeat(180)}`;
  // About 200 bytes a line: 2,000 lines are some 400 KB, six times the size.
  for (let i = 0; i < 2000; i++) {
    logs.service.info(line(i));
    logs.project('rot').running.info(line(i));
    // Winston rotates once the current file's stream has flushed: give it a turn now and then.
    if (i % 50 === 49) await new Promise((r) => setImmediate(r));
  }
  await logs.close();
  logs = undefined;
  const expected = [
    'rot-running.log',
    'rot-running1.log',
    'rot-running2.log',
    'rot-success.log',
    'running.log',
    'running1.log',
    'running2.log',
  ];
  // A rotation under way when the logs closed finishes its renames just after (winston renames 1 -> 2, then the
  // file -> 1, so for a moment `1` is missing): wait until the files and their sizes read the same twice running.
  const snapshot = async () => {
    const names = (await readdir(dir)).sort();
    const sizes = await Promise.all(
      names.map((n) =>
        stat(join(dir, n)).then(
          (s) => s.size,
          () => -1,
        ),
      ),
    );
    return names.map((n, i) => `${n}:${sizes[i]}`).join();
  };
  let previous = '';
  const files = await until(
    'the rotated files, settled',
    async () => {
      const now = await snapshot();
      const settled = now === previous && (await readdir(dir)).sort().join() === expected.join();
      previous = now;
      return settled ? expected : undefined;
    },
    5000,
  ).catch(async () => (await readdir(dir)).sort());
  expect(files).toEqual(expected);
  for (const base of ['running', 'rot-running']) {
    for (const file of [`${base}.log`, `${base}1.log`, `${base}2.log`])
      expect((await stat(join(dir, file))).size).toBeLessThanOrEqual(maxBytes + 300);
    // tailable: the newest lines are in the file that keeps its name, the older ones in 1, then 2.
    const newest = await lines(`${base}.log`);
    expect(newest.at(-1)).toContain(line(1999));
    const older = await lines(`${base}1.log`);
    expect(older.length).toBeGreaterThan(0);
    expect(older.at(-1)!.localeCompare(newest[0])).toBeLessThan(0);
  }
});

test('LogMaxSizeMB, LogMaxFiles: defaults 100 MB and 5 files, 0 turns rotation off, bad values are named', () => {
  const base = {
    NamespaceMap: 'library:mycompany',
    HWAuthMethod: 'AKSK',
    HWAK: 'AKEXAMPLE0000000001',
    HWSK: 'sk-example-value-000000001',
    RegionName: 'cn-north-4',
    HarborAddr: 'harbor.example.com',
  };
  expect(parseConfig(base).logRotation).toEqual({ maxBytes: 100 * 1024 * 1024, maxFiles: 5 });
  expect(parseConfig({ ...base, LogMaxSizeMB: '0', LogMaxFiles: '2' }).logRotation).toEqual({
    maxBytes: 0,
    maxFiles: 2,
  });
  expect(() => parseConfig({ ...base, LogMaxSizeMB: '1.5', LogMaxFiles: '0' })).toThrow(ConfigError);
  expect(() => parseConfig({ ...base, LogMaxSizeMB: 'big' })).toThrow(
    /LogMaxSizeMB must be a whole number from 0 to 100000, got "big"/,
  );
  expect(() => parseConfig({ ...base, LogMaxFiles: '0' })).toThrow(
    /LogMaxFiles must be a whole number from 1 to 1000, got "0"/,
  );
});
