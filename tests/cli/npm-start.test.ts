// `npm start` as a user or a supervisor runs it, in a copy of the repository: a wrong configuration is reported
// before any build, and SIGTERM to npm stops the server itself (no `serve` left running, the port free again).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { utimes, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { STACK_FRAME } from '../harness/cli.js';
import { startHarbor, type HarborStandIn } from '../harness/harbor/index.js';
import { commandLine, descendants, isRunning, runNpm, userEnvironment } from '../harness/process-tree.js';
import { copyProject, type ProjectCopy } from '../harness/project-copy.js';
import { startRegistry, type RunningRegistry } from '../harness/registry.js';
import { plainRequest } from '../harness/serve-process.js';
import { testServiceConfig } from '../harness/service.js';
import { until } from '../harness/until.js';
import { appConfText } from '../harness/app-conf.js';

/** Pids that must not outlive this file, whatever an assertion did. */
const started = new Set<number>();

afterAll(() => {
  for (const pid of started)
    if (isRunning(pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
});

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

describe('a first start without a usable configuration', () => {
  let project: ProjectCopy;

  beforeAll(async () => {
    project = await copyProject({ linkNodeModules: true });
  }, 60_000);

  afterAll(async () => {
    await project?.remove();
  });

  test('says what is wrong with app.conf at once, exits 2, and builds nothing', async () => {
    // An app.conf written in a hurry: a region without its prefix, a port that is no number.
    await writeFile(
      join(project.dir, 'app.conf'),
      'NamespaceMap=library:mycompany\nHWAuthMethod=AKSK\nRegionName=north-4\nPort=abc\nHarborAddr=harbor.example.com\n',
    );
    const run = runNpm(['start'], project.dir, userEnvironment());
    if (run.child.pid) started.add(run.child.pid);
    const { code } = await run.exited;
    const output = run.output();
    expect(code).toBe(2);
    // The service's own messages (src/config): each problem on an `error:` line naming its key.
    expect(output).toMatch(/^error: .*RegionName.*north-4/m);
    expect(output).toMatch(/^error: .*Port.*abc/m);
    expect(output).toMatch(/fix app\.conf and run npm start again/);
    expect(output).not.toMatch(/building dist/);
    expect(output).not.toMatch(STACK_FRAME);
    expect(existsSync(join(project.dir, 'dist/src'))).toBe(false);
    expect(existsSync(join(project.dir, 'dist/bin'))).toBe(false);
  }, 60_000);
});

describe('a built copy whose packages changed since (npm ci after an update)', () => {
  let project: ProjectCopy;

  beforeAll(async () => {
    project = await copyProject({ linkNodeModules: true, copyDist: true });
  }, 60_000);

  afterAll(async () => {
    await project?.remove();
  });

  test('is built again: the bundle holds undici, commander, p-limit and minimatch from node_modules', async () => {
    // A wrong app.conf shows whether prestart means to build: it checks the configuration only before a build.
    await writeFile(join(project.dir, 'app.conf'), 'NamespaceMap=library:mycompany\nPort=abc\n');
    const prestart = () =>
      spawnSync(process.execPath, ['scripts/prestart.mjs'], {
        cwd: project.dir,
        env: userEnvironment(),
        encoding: 'utf8',
      });
    const asBuilt = prestart();
    expect({ status: asBuilt.status, output: asBuilt.stdout + asBuilt.stderr }).toEqual({ status: 0, output: '' });
    const later = new Date(Date.now() + 60_000);
    await utimes(join(project.dir, 'package-lock.json'), later, later);
    const updated = prestart();
    expect(updated.status).toBe(2);
    expect(updated.stderr).toMatch(/^error: .*Port.*abc/m);
    expect(updated.stderr).toMatch(/not built and not started/);
  }, 60_000);
});

describe('SIGTERM to npm start', () => {
  let harbor: HarborStandIn;
  let dst: RunningRegistry;
  let project: ProjectCopy;

  beforeAll(async () => {
    [harbor, dst, project] = await Promise.all([
      startHarbor({ projects: [{ name: 'proj', public: false }] }),
      startRegistry(),
      copyProject({ linkNodeModules: true, copyDist: true }),
    ]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([harbor?.stop(), dst?.stop(), project?.remove()]);
  });

  test('reaches the server: it stops in order, npm exits, no serve process is left and the port is free', async () => {
    const values = await testServiceConfig(harbor.host, dst.host, join(project.dir, 'logs'), join(project.dir, 'data'));
    await writeFile(join(project.dir, 'app.conf'), appConfText(values));
    const port = Number(values.Port);
    const npm = runNpm(['start'], project.dir, userEnvironment());
    const npmPid = npm.child.pid!;
    started.add(npmPid);
    await until(
      'npm start to serve /healthz',
      async () => {
        if (npm.child.exitCode !== null) throw new Error(`npm start exited early:\n${npm.output()}`);
        return (await plainRequest(`http://127.0.0.1:${port}/healthz`, 'GET')).status === 200 ? true : undefined;
      },
      60_000,
      100,
    );
    const servers = descendants(npmPid).filter((pid) =>
      /^\S*node dist\/bin\/swr-harbor-sync\.js serve$/.test(commandLine(pid)),
    );
    servers.forEach((pid) => started.add(pid));
    expect(servers).toHaveLength(1);
    // dist/ was as new as the sources: started without a build.
    expect(npm.output()).not.toMatch(/building dist/);

    process.kill(npmPid, 'SIGTERM');
    const exit = await npm.exited;
    const left = await until(
      'the server to exit',
      async () => (servers.some(isRunning) ? undefined : []),
      10_000,
      100,
    ).catch(() => servers.filter(isRunning).map((pid) => `${pid} ${commandLine(pid)}`));
    expect(left).toEqual([]);
    expect(npm.output()).toMatch(/SIGTERM: stopping/);
    expect(exit).toEqual({ code: 0, signal: null });
    expect((await plainRequest(`http://127.0.0.1:${port}/healthz`, 'GET')).error).toBe('ECONNREFUSED');
    expect(await portIsFree(port)).toBe(true);
    expect(npm.output()).not.toMatch(STACK_FRAME);
  }, 120_000);
});
