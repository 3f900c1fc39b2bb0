// What a new user sees from `copy` (issue 15), run as the built command against real registries: a skipped
// image says why, a registry in the other protocol or a host that does not resolve fails at once naming the fix,
// an argument that is no registry is refused before any request, and the version is the one every request sends.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { selfSignedCertificate } from '../harness/certificates.js';
import { runCli } from '../harness/cli.js';
import { getManifest, pushImage } from '../harness/images.js';
import { startRegistry, type RunningRegistry } from '../harness/registry.js';

let dir: string;
let src: RunningRegistry;
let dst: RunningRegistry;
/** Serves HTTPS only. */
let secure: RunningRegistry;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'swr-harbor-sync-cli-messages-'));
  const cert = selfSignedCertificate(dir, 'registry', {
    subject: '/CN=127.0.0.1',
    altNames: 'IP:127.0.0.1',
    purpose: 'an HTTPS registry',
  });
  [src, dst, secure] = await Promise.all([
    startRegistry(),
    startRegistry(),
    startRegistry({ tls: { certificate: cert.certPath, key: cert.keyPath } }),
  ]);
  await pushImage(src, 'msg/app', 'v1', { format: 'docker', layers: [{ seed: 'msg-app-1', size: 20_000 }] });
});

afterAll(async () => {
  await Promise.all([src?.stop(), dst?.stop(), secure?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

const plain = ['--insecure-src', '--insecure-dst'];
type JsonRun = { results: Array<{ status: string; reason?: string; errorCode?: string; retries: number }> };

describe('a skipped image says why', () => {
  test('the same image again: a line saying it is there, one image counted in the singular, exit 0', async () => {
    await runCli(['copy', `${src.host}/msg/app:v1`, `${dst.host}/msg/same:v1`, ...plain]);
    const again = await runCli(['copy', `${src.host}/msg/app:v1`, `${dst.host}/msg/same:v1`, ...plain]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`skipped ${dst.host}/msg/same:v1: destination already has this digest\n`);
    expect(again.stdout).toMatch(/^0 copied, 1 skipped, 0 failed of 1 image; .*; 0 retries; /m);
  });

  test('a destination tag holding another image: its line gives both digests, the summary counts it apart', async () => {
    const old = await pushImage(src, 'msg/moving', 'v1', {
      format: 'docker',
      layers: [{ seed: 'msg-moving-old', size: 20_000 }],
    });
    await runCli(['copy', `${src.host}/msg/moving:v1`, `${dst.host}/msg/moving:v1`, ...plain]);
    const rebuilt = await pushImage(src, 'msg/moving', 'v1', {
      format: 'docker',
      layers: [{ seed: 'msg-moving-new', size: 20_000 }],
    });
    const run = await runCli(['copy', `${src.host}/msg/moving:v1`, `${dst.host}/msg/moving:v1`, ...plain]);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain(
      `skipped ${dst.host}/msg/moving:v1: destination tag points at ${old.digest}, not ${rebuilt.digest}, and overwrite is off`,
    );
    expect(run.stdout).toMatch(/^0 copied, 1 skipped \(1 differs: --overwrite replaces it\), 0 failed of 1 image;/m);
    expect((await getManifest(dst, 'msg/moving', 'v1'))?.digest).toBe(old.digest);
  });
});

describe('the wrong protocol fails at once and names the flag', () => {
  test('HTTPS to a plain-HTTP registry: no retry, "add --insecure-dst"', async () => {
    const run = await runCli(['copy', `${src.host}/msg/app:v1`, `${dst.host}/msg/tls:v1`, '--insecure-src']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/speaks plain HTTP, not HTTPS \(ERR_SSL_WRONG_VERSION_NUMBER\): add --insecure-dst/);
    const json = await runCli(['copy', `${src.host}/msg/app:v1`, `${dst.host}/msg/tls:v1`, '--insecure-src', '--json']);
    const [result] = (JSON.parse(json.stdout) as JsonRun).results;
    expect(result).toMatchObject({ status: 'failed', errorCode: 'TLS_MISMATCH', retries: 0 });
  });

  test('plain HTTP to an HTTPS registry: "leave out --insecure-src"', async () => {
    const run = await runCli(['copy', `${secure.host}/msg/app:v1`, `${dst.host}/msg/tls:v1`, ...plain]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/speaks HTTPS, not plain HTTP .*: leave out --insecure-src/);
  });
});

describe('arguments that name no registry are refused before any request', () => {
  test.each([
    [
      ['copy', 'library/app:1.0', '127.0.0.1:1/x:y'],
      'SRC must start with a registry host (registry.example.com/library/app:1.0)',
    ],
    [
      ['copy', 'nginx:latest', '127.0.0.1:1/x:y'],
      'SRC must start with a registry host (registry.example.com/nginx:latest)',
    ],
    [['copy', '127.0.0.1:1/a:b', 'app/x:y'], 'DST must start with a registry host (registry.example.com/app/x:y)'],
    [['copy-prefix', 'team', '127.0.0.1:1/mirror'], 'SRC must start with a registry host (registry.example.com/team)'],
    [
      ['copy', 'http://127.0.0.1:1/a:b', '127.0.0.1:1/x:y'],
      'SRC "http://127.0.0.1:1/a:b" starts with http://: drop the scheme (127.0.0.1:1/a:b); HTTPS is the default, and --insecure-src talks plain HTTP',
    ],
    [
      ['copy', '127.0.0.1:1/a:b', 'https://127.0.0.1:1/x:y'],
      'DST "https://127.0.0.1:1/x:y" starts with https://: drop the scheme',
    ],
  ])('%j: exit 2 saying what to write', async (args, message) => {
    const run = await runCli(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(run.stderr).not.toMatch(/ENOTFOUND|\n\s+at /);
  });

  test('copy-prefix takes a registry host alone (the whole catalog)', async () => {
    const run = await runCli(['copy-prefix', src.host, `${dst.host}/whole`, ...plain]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(await getManifest(dst, 'whole/msg/app', 'v1')).toBeDefined();
  });

  test('a host that does not resolve: "cannot resolve host", after at most one retry', async () => {
    const run = await runCli(['copy', 'no-such-host.invalid/a:b', `${dst.host}/x:y`, '--insecure-dst', '--json']);
    expect(run.code).toBe(1);
    const [result] = (JSON.parse(run.stdout) as JsonRun).results;
    expect(result.reason).toMatch(/cannot resolve host no-such-host\.invalid \((ENOTFOUND|EAI_AGAIN)\)/);
    expect(result.retries).toBeLessThanOrEqual(1);
  });
});

test('--version prints the package version, which registry requests send as the User-Agent', async () => {
  const { version } = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  for (const flag of ['--version', '-V']) {
    const run = await runCli([flag]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`${version}\n`);
  }
  await runCli(['copy', `${src.host}/msg/app:v1`, `${dst.host}/msg/agent:v1`, ...plain]);
  // Distribution logs each request's User-Agent.
  expect(await readFile(dst.logPath, 'utf8')).toContain(`http.request.useragent=swr-harbor-sync/${version} `);
});
