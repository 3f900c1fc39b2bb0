// The README's quick start, followed as written in a fresh copy of the repository: its commands are read from
// the README itself (the sh block, then each numbered step's command), app.conf is config/app.conf.example with
// the values a user would fill in (here: the Harbor stand-in and a real registry as destination), and each
// command must exit 0 without a stack trace in its output. Ends with one image pushed to Harbor arriving at the
// destination through the webhook the quick start registered. npm ci reuses npm's cache (npm_config_prefer_offline,
// warm after CI's own npm ci); how long the install and the first start took is written to test-artifacts/.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { STACK_FRAME } from '../harness/cli.js';
import { startHarbor, type HarborStandIn } from '../harness/harbor/index.js';
import { getManifest, pushImage } from '../harness/images.js';
import { freePort } from '../harness/ports.js';
import { descendants, isRunning, runNpm, userEnvironment, type NpmRun } from '../harness/process-tree.js';
import { copyProject, REPO_ROOT, type ProjectCopy } from '../harness/project-copy.js';
import { startRegistry, type RunningRegistry } from '../harness/registry.js';
import { plainRequest } from '../harness/serve-process.js';
import { until } from '../harness/until.js';

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

let harbor: HarborStandIn;
let dst: RunningRegistry;
let project: ProjectCopy;
let server: NpmRun | undefined;

beforeAll(async () => {
  [harbor, dst, project] = await Promise.all([
    // The example's NamespaceMap: library:mycompany;team-a:team-a.
    startHarbor({
      projects: [
        { name: 'library', public: false },
        { name: 'team-a', public: false },
      ],
    }),
    startRegistry(),
    copyProject(),
  ]);
}, 120_000);

afterAll(async () => {
  // npm and whatever it started: a server left behind (as an unchanged `npm start` leaves it) must go too.
  const pid = server?.child.pid;
  if (pid)
    for (const p of [pid, ...descendants(pid)].filter(isRunning)) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  await Promise.all([harbor?.stop(), dst?.stop(), project?.remove()]);
});

/** The quick start's commands, in order: the sh block's lines, then the commands of its numbered steps. */
async function quickStartCommands(): Promise<{ block: string[]; steps: string[] }> {
  const readme = await readFile(join(REPO_ROOT, 'README.md'), 'utf8');
  const section = /^## Quick start\n([\s\S]*?)^## /m.exec(readme)?.[1];
  if (!section) throw new Error('README.md has no "## Quick start" section');
  const block = (/```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '')
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter(Boolean);
  const steps = [...section.matchAll(/^\d+\. ([\s\S]*?)(?=^\d+\. |^\S|(?![\s\S]))/gm)].flatMap(([, step]) =>
    [...step.replace(/\n\s+/g, ' ').matchAll(/`(node dist\/bin\/swr-harbor-sync\.js [^`]+)`/g)].map(([, c]) => c),
  );
  return { block, steps };
}

/** What a user fills in: their Harbor, their destination, a port; everything else stays as in the example. */
async function fillIn(file: string, port: number): Promise<void> {
  const values: Record<string, string> = {
    HWAK: 'QUICKSTARTACCESSKEY1',
    HWSK: 'quick-start-secret-key-0123456789',
    HarborAddr: harbor.host,
    HarborProtocol: 'http',
    HarborPassword: 'Harbor12345',
    SWRRegistry: dst.host,
    SWRProtocol: 'http',
    // A plain registry has no SWR management API.
    SWRManageNamespaces: 'false',
    Port: String(port),
    ListenAddress: '127.0.0.1',
    // The example's /var/log/swr_harbor_sync would be the machine's own (and writable under CI's root).
    LogDir: './logs',
  };
  let text = await readFile(file, 'utf8');
  for (const [key, value] of Object.entries(values)) {
    const line = new RegExp(`^${key}=.*$`, 'm');
    expect({ key, inExample: line.test(text) }).toEqual({ key, inExample: true });
    text = text.replace(line, `${key}=${value}`);
  }
  await writeFile(file, text);
}

/** One command line as a user's shell runs it, in the copy of the repository. */
function shell(command: string): Promise<{ code: number | null; output: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', command], {
      cwd: project.dir,
      env: userEnvironment(NPM_CACHE_ONLY),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output, ms: Date.now() - started }));
  });
}

/** npm's own configuration, as a user's ~/.npmrc could hold it: the cache first, no audit or funding calls. */
const NPM_CACHE_ONLY = {
  npm_config_prefer_offline: 'true',
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  npm_config_update_notifier: 'false',
};

test("the README's quick start, as written: install, configure, start, check-config, register the webhook, one image copied", async () => {
  const { block, steps } = await quickStartCommands();
  expect(block).toEqual([expect.stringMatching(/^npm (ci|install)\b/), expect.stringMatching(/^cp /), 'npm start']);
  expect(steps).toEqual([
    expect.stringMatching(/ check-config$/),
    expect.stringMatching(/ register-webhook /),
    expect.stringMatching(/ jobs$/),
  ]);
  const port = await freePort();
  const timings: Record<string, number> = {};

  for (const command of block) {
    if (command === 'npm start') {
      const started = Date.now();
      server = runNpm(['start'], project.dir, userEnvironment(NPM_CACHE_ONLY));
      const running = server;
      await until(
        'npm start to answer /healthz',
        async () => {
          if (running.child.exitCode !== null) throw new Error(`npm start exited:\n${running.output()}`);
          return (await plainRequest(`http://127.0.0.1:${port}/healthz`, 'GET')).status === 200 ? true : undefined;
        },
        300_000,
        200,
      );
      timings['first npm start (build included) until /healthz answered, ms'] = Date.now() - started;
      expect(server.output()).toMatch(/building dist\/ first/);
      continue;
    }
    const run = await shell(command);
    timings[`${command}, ms`] = run.ms;
    expect({ command, code: run.code, output: run.code === 0 ? '' : run.output }).toEqual({
      command,
      code: 0,
      output: '',
    });
    expect(run.output).not.toMatch(STACK_FRAME);
    if (existsSync(join(project.dir, 'app.conf')) && command.startsWith('cp ')) {
      await fillIn(join(project.dir, 'app.conf'), port);
    }
  }

  const base = `127.0.0.1:${port}`;
  for (const written of steps) {
    const command = written.replaceAll('THIS-HOST:5000', base);
    if (/ jobs$/.test(command)) {
      // Step 3: push an image to a mapped project; Harbor's webhook brings it to the service.
      const image = await pushImage(harbor.access, 'library/app', '1.0', {
        format: 'docker',
        layers: [{ seed: 'quick-start', size: 30_000 }],
      });
      const last = await until(
        'the pushed image to be copied, as the jobs command shows it',
        async () => {
          const run = await shell(command);
          expect({ command, code: run.code, output: run.code === 0 ? '' : run.output }).toEqual({
            command,
            code: 0,
            output: '',
          });
          return /succeeded/.test(run.output) ? run : undefined;
        },
        60_000,
        500,
      );
      expect(last.output).not.toMatch(STACK_FRAME);
      expect((await getManifest(dst, 'mycompany/app', '1.0'))?.digest).toBe(image.digest);
      expect((await plainRequest(`http://${base}/`, 'GET')).status).toBe(200);
      continue;
    }
    const run = await shell(command);
    expect({ command, code: run.code, output: run.code === 0 ? '' : run.output }).toEqual({
      command,
      code: 0,
      output: '',
    });
    expect(run.output).not.toMatch(STACK_FRAME);
  }

  server!.child.kill('SIGTERM');
  expect(await server!.exited).toEqual({ code: 0, signal: null });
  expect(server!.output()).not.toMatch(STACK_FRAME);
  await mkdir(ARTIFACTS, { recursive: true });
  await writeFile(join(ARTIFACTS, 'quick-start-timings.json'), `${JSON.stringify(timings, null, 2)}\n`);
}, 900_000);
