// Command-line habits a new user relies on (issue 15), run as the built command: every command exits 2 on an
// invalid configuration naming the key, a missing app.conf says where it was looked for, a mistyped command is
// named with the nearest one, the help lists every exit code, and serve's stop line is timestamped.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { startHarbor, type HarborStandIn } from '../harness/harbor/index.js';
import { runCli } from '../harness/cli.js';
import { startRegistry, type RunningRegistry } from '../harness/registry.js';
import { startServeProcess } from '../harness/serve-process.js';
import { testServiceConfig } from '../harness/service.js';
import { appConfText } from '../harness/app-conf.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'swr-harbor-sync-cli-habits-'));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const STACK_TRACE = /\n\s+at /;
/** Only what the command needs: the test runner's environment would override app.conf keys. */
const bareEnv = (extra: Record<string, string> = {}) => ({ PATH: process.env.PATH ?? '/usr/bin:/bin', ...extra });

describe('an invalid configuration: exit 2 from every command, the key named on stderr, no stack trace', () => {
  let confPath: string;

  beforeAll(async () => {
    confPath = join(dir, 'bad-port.conf');
    const values = { ...(await testServiceConfig('127.0.0.1:1', '127.0.0.1:1', dir, dir)), Port: 'abc' };
    await writeFile(confPath, appConfText(values));
  });

  test.each([
    [[]],
    [['serve']],
    [['sync', '--project', 'proj']],
    [['check-config']],
    [['register-webhook', '--project', 'proj', '--url', 'http://127.0.0.1:1/service/notifications']],
    [['jobs']],
  ])('Port=abc in app.conf: %j', async (args) => {
    const run = await runCli(args, bareEnv({ CONFIG_FILE: confPath }), { replaceEnv: true });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: configuration: Port must be a whole number from 1 to 65535, got "abc"/m);
    expect(run.stderr).not.toMatch(STACK_TRACE);
  });

  test.each([[['copy', '127.0.0.1:1/a:b', '127.0.0.1:1/x:y']], [['copy-prefix', '127.0.0.1:1/a', '127.0.0.1:1/b']]])(
    'TokenRealmHosts (the one key copy reads, from the environment) invalid: %j',
    async (args) => {
      const run = await runCli(args, bareEnv({ TokenRealmHosts: 'https://auth.example.com/token' }), {
        replaceEnv: true,
      });
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/^error: TokenRealmHosts: /m);
      expect(run.stderr).not.toMatch(STACK_TRACE);
    },
  );
});

test('no app.conf: the files looked for and how to start, exit 2', async () => {
  const empty = await mkdtemp(join(dir, 'empty-'));
  for (const args of [['check-config'], ['sync', '--project', 'proj'], []]) {
    const run = await runCli(args, bareEnv(), { cwd: empty, replaceEnv: true });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /^error: no configuration file: looked for \.\/app\.conf and \.\/config\/app\.conf \(CONFIG_FILE, which names another file, is not set\)$/m,
    );
    expect(run.stderr).toMatch(/^error: to start: cp config\/app\.conf\.example app\.conf, fill in its values/m);
    expect(run.stderr).not.toMatch(STACK_TRACE);
  }
});

test.each([
  ['check-confg', "error: unknown command 'check-confg' (did you mean check-config?)"],
  ['cpoy', "error: unknown command 'cpoy' (did you mean copy?)"],
  ['frobnicate', "error: unknown command 'frobnicate'\n"],
])('a mistyped command %s is named, with the commands, exit 2', async (word, message) => {
  const run = await runCli([word], bareEnv(), { replaceEnv: true });
  expect(run.code).toBe(2);
  expect(run.stderr).toContain(message);
  expect(run.stderr).toContain(
    'commands: copy, copy-prefix, sync, serve, jobs, check-config, register-webhook; swr-harbor-sync --help describes them',
  );
});

test('jobs says who it is to the service: User-Agent swr-harbor-sync/<version>, as every other call does', async () => {
  const seen: Array<string | undefined> = [];
  const server = createServer((req, res) => {
    seen.push(req.headers['user-agent']);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ jobs: [] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const run = await runCli(['jobs', '--url', url], bareEnv(), { replaceEnv: true });
    expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 0, stdout: 'no jobs\n' });
    const { version } = JSON.parse(await readFile('package.json', 'utf8')) as { version: string };
    expect(seen).toEqual([`swr-harbor-sync/${version}`]);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test('jobs reads at most 64 MiB of an answer: something else at --url streaming without end is an error', async () => {
  const server = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.write('{"jobs":[');
    const chunk = Buffer.alloc(1024 * 1024, ' ');
    const more = () => {
      while (!res.destroyed && res.write(chunk));
      if (!res.destroyed) res.once('drain', more);
    };
    more();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const run = await runCli(['jobs', '--url', url], bareEnv(), { replaceEnv: true });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`the answer from ${url} is over 64 MiB, more than a job list; is --url the service?`);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test('the top-level help lists every exit code a command uses, 3 included', async () => {
  const run = await runCli(['--help']);
  expect(run.code).toBe(0);
  expect(run.stdout).toMatch(/^3 \(register-webhook only\) this Harbor or registry has no webhook policies/m);
});

describe('serve', () => {
  let harbor: HarborStandIn;
  let dst: RunningRegistry;

  beforeAll(async () => {
    [harbor, dst] = await Promise.all([startHarbor({ projects: [{ name: 'proj', public: false }] }), startRegistry()]);
  });

  afterAll(async () => {
    await Promise.all([harbor?.stop(), dst?.stop()]);
  });

  test('SIGTERM: the stopping line is timestamped like every other log line', async () => {
    const serve = await startServeProcess(harbor.host, dst.host);
    try {
      serve.kill('SIGTERM');
      expect((await serve.exited()).code).toBe(0);
      expect(serve.output()).toMatch(
        /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO SIGTERM: stopping \(up to \d+ s for running jobs\)$/m,
      );
    } finally {
      await serve.stop();
    }
  }, 60_000);
});
