// Smoke-checks the benchmark's wiring at a tiny scale: the scenario generator's shape, the
// skopeo command line against a real registry pair, the counting proxy, and the verifier.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { copyOnce } from '../../bench/copy-run.js';
import { buildProject, type ExpectedProject } from '../../bench/project.js';
import { scenario } from '../../bench/scenarios.js';
import { skopeoPlan } from '../../bench/tools.js';
import { verifyCopy } from '../../bench/verify.js';
import { startRegistry, type RunningRegistry } from '../harness/registry.js';

let source: RunningRegistry;
let workDir: string;
let expected: ExpectedProject;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'bench-smoke-'));
  source = await startRegistry();
  // A vanishing scale clamps every layer to the 1 KiB minimum: the shape of scenario (a), none of its bulk.
  expected = await buildProject(source, scenario('a', 1e-9));
});

afterAll(async () => {
  await source?.stop();
  await rm(workDir, { recursive: true, force: true });
});

test('scenario (a) has 10 repos x 2 tags and the planned sharing of layers', () => {
  expect(expected.tags.size).toBe(10);
  for (const tags of expected.tags.values()) expect([...tags.keys()]).toEqual(['v1', 'v2']);
  // 72 layer slots, half drawn from a pool of 3: 36 + 3 unique layers, plus 24 image configs.
  expect(expected.uniqueBlobs).toBe(39 + 24);
});

test('an empty destination fails verification, naming every missing tag', async () => {
  const empty = await startRegistry();
  try {
    const problems = await verifyCopy(empty, expected);
    expect(problems).toHaveLength(20);
    expect(problems[0]).toMatch(/bench-a\/app-00:v1 missing/);
  } finally {
    await empty.stop();
  }
});

test('the skopeo sync plan copies the project with identical names and digests', async () => {
  const repos = [...expected.tags.keys()];
  const outcome = await copyOnce(
    'skopeo',
    (_tool, destHost) => skopeoPlan(source.host, destHost, repos, workDir),
    expected,
    existsSync('/usr/bin/time'),
    true,
  );
  expect(outcome.problems).toEqual([]);
  expect(outcome.wallMs).toBeGreaterThan(0);
  expect(outcome.peakRss).toBeGreaterThan(0);
  // A fresh destination must receive every unique blob at least once, so this proves the
  // counting proxy sees all upload bodies.
  expect(outcome.uploadedBytes).toBeGreaterThanOrEqual(expected.uniqueBlobBytes);
});
