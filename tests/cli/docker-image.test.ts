// Owns checking the container files (docker/Dockerfile, .dockerignore, docker/docker-compose.yml) against
// the code. Docker cannot run here, so the Dockerfile's own instructions are carried out in a temp directory
// (one directory per stage standing for its filesystem, this machine's Node standing for the base image's),
// and the result is started with the image's ENTRYPOINT/CMD, ENV, USER and an --env-file as a user gives it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import {
  chmod,
  chown,
  cp,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import dotenv from 'dotenv';
import { parseConfig } from '../../src/config/config.js';
import {
  commandArgv,
  copyArgs,
  dockerignore,
  envArgs,
  execForm,
  healthcheckCommand,
  instructionsOf,
  parseDockerfile,
  parseYaml,
  readEnvFile,
  volumeArgs,
  type Dockerfile,
  type Instruction,
  type Stage,
  type Yaml,
} from '../harness/dockerfile.js';
import { freePort } from '../harness/ports.js';
import { until } from '../harness/until.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DOCKERFILE = 'docker/Dockerfile';
const COMPOSE = 'docker/docker-compose.yml';
const EXAMPLE = 'config/app.conf.example';
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

const df = parseDockerfile(read(DOCKERFILE));
const pkg = JSON.parse(read('package.json')) as {
  engines?: { node?: string };
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, { version?: string; dev?: boolean }> };
/** config.ts's defaults: what the image must agree with. */
const DEFAULTS = parseConfig({
  NamespaceMap: 'library:mycompany',
  HWAuthMethod: 'AKSK',
  HWAK: 'AK',
  HWSK: 'SK',
  RegionName: 'cn-north-4',
  HarborAddr: 'harbor.example.com',
});

const at = (i: Instruction) => `${DOCKERFILE}:${i.line}`;
const last = (stage: Stage, keyword: string) => instructionsOf(stage, keyword).at(-1);
const stageKey = (stage: Stage) => stage.name ?? String(stage.index);

/** The final stage's WORKDIR, as Docker resolves consecutive WORKDIRs. */
function workdirOf(stage: Stage): string {
  return instructionsOf(stage, 'WORKDIR').reduce((dir, i) => posix.resolve(dir, i.args), '/');
}
const WORKDIR = workdirOf(df.final);
const VOLUMES = instructionsOf(df.final, 'VOLUME').flatMap((i) => volumeArgs(i.args));
const EXPOSED = instructionsOf(df.final, 'EXPOSE')
  .flatMap((i) => i.args.split(/\s+/))
  .map((p) => p.replace(/\/tcp$/, ''));
const USER = last(df.final, 'USER');
const HEALTHCHECK = last(df.final, 'HEALTHCHECK');
const HEALTH_ARGV = HEALTHCHECK ? healthcheckCommand(HEALTHCHECK) : undefined;
const EXPECTED_VOLUMES = { LogDir: DEFAULTS.logDir, DataDir: posix.resolve(WORKDIR, DEFAULTS.dataDir) };

/** uid:gid of a numeric USER; undefined for a name (the test cannot look names up in the image). */
function numericUser(): { uid: number; gid: number } | undefined {
  const m = USER ? /^(\d+)(?::(\d+))?$/.exec(USER.args) : null;
  return m ? { uid: Number(m[1]), gid: Number(m[2] ?? m[1]) } : undefined;
}

/** The RUN commands of a stage, split at `&&`. */
function runCommands(stage: Stage): { cmd: string; instruction: Instruction }[] {
  return instructionsOf(stage, 'RUN').flatMap((instruction) =>
    instruction.args.split('&&').map((cmd) => ({ cmd: cmd.trim(), instruction })),
  );
}

describe('docker/Dockerfile agrees with the code', () => {
  test('the runtime stage runs as a non-root, numeric USER that owns the VOLUMEs', () => {
    const problems: string[] = [];
    if (!USER) problems.push(`${DOCKERFILE}: the final stage has no USER, so it runs as root`);
    else if (/^(root|0)(:|$)/.test(USER.args)) problems.push(`${at(USER)}: USER ${USER.args} is root`);
    else if (!numericUser())
      problems.push(
        `${at(USER)}: USER ${USER.args} is a name; use uid:gid so that runAsNonRoot checks (and this test) can tell it is not root`,
      );
    const chowned = runCommands(df.final).filter(({ cmd }) => cmd.startsWith('chown '));
    for (const volume of VOLUMES) {
      const owner = chowned.find(({ cmd }) => cmd.split(/\s+/).slice(1).includes(volume));
      if (!owner)
        problems.push(
          `VOLUME ${volume} is not chowned in the final stage: a fresh named volume would be root's and the service (USER ${USER?.args}) could not write it`,
        );
      else if (USER && !owner.cmd.split(/\s+/).includes(USER.args))
        problems.push(
          `${at(owner.instruction)}: "${owner.cmd}" gives ${volume} to another owner than USER ${USER.args}`,
        );
    }
    expect(problems).toEqual([]);
  });

  test(`EXPOSE is config.ts's default Port (${DEFAULTS.port})`, () => {
    const problems: string[] = [];
    const expose = last(df.final, 'EXPOSE');
    if (!expose)
      problems.push(`${DOCKERFILE}: the final stage has no EXPOSE; config.ts's default Port is ${DEFAULTS.port}`);
    else if (EXPOSED.join(' ') !== String(DEFAULTS.port))
      problems.push(`${at(expose)}: EXPOSE ${EXPOSED.join(' ')} but config.ts's default Port is ${DEFAULTS.port}`);
    expect(problems).toEqual([]);
  });

  test('the VOLUMEs are the LogDir and DataDir defaults, and config/app.conf.example points at them', () => {
    const problems: string[] = [];
    const wanted = Object.values(EXPECTED_VOLUMES);
    for (const [key, path] of Object.entries(EXPECTED_VOLUMES)) {
      if (!VOLUMES.includes(path))
        problems.push(
          `${DOCKERFILE}: no VOLUME for ${path}, config.ts's default ${key} (${key === 'DataDir' ? `${DEFAULTS.dataDir} from WORKDIR ${WORKDIR}` : 'absolute'}); its files would be lost with the container`,
        );
    }
    for (const volume of VOLUMES)
      if (!wanted.includes(volume))
        problems.push(
          `${DOCKERFILE}: VOLUME ${volume} is neither LogDir's default (${EXPECTED_VOLUMES.LogDir}) nor DataDir's (${EXPECTED_VOLUMES.DataDir})`,
        );
    // Users copy the example to app.conf and pass it with --env-file: its values must land in the volumes too.
    const example = readEnvFile(read(EXAMPLE));
    for (const [key, path] of Object.entries(EXPECTED_VOLUMES)) {
      const value = example[key]?.trim();
      if (value && posix.resolve(WORKDIR, value) !== path)
        problems.push(
          `${EXAMPLE}: ${key}=${value} is ${posix.resolve(WORKDIR, value)} in the image, not the VOLUME ${path}`,
        );
    }
    expect(problems).toEqual([]);
  });

  test("the HEALTHCHECK asks /healthz on the configured Port, defaulting to config.ts's", () => {
    const problems: string[] = [];
    if (!HEALTHCHECK || !HEALTH_ARGV) problems.push(`${DOCKERFILE}: the final stage has no HEALTHCHECK`);
    else {
      const command = HEALTH_ARGV.join(' ');
      if (!command.includes('/healthz'))
        problems.push(`${at(HEALTHCHECK)}: the HEALTHCHECK does not ask /healthz (the service's health route)`);
      if (!/process\.env\.Port\b/.test(command))
        problems.push(`${at(HEALTHCHECK)}: the HEALTHCHECK ignores Port from the environment (--env-file)`);
      if (!command.includes(String(DEFAULTS.port)))
        problems.push(
          `${at(HEALTHCHECK)}: the HEALTHCHECK's fallback port is not config.ts's default Port ${DEFAULTS.port}`,
        );
      if (/\bcurl\b|\bwget\b/.test(command))
        problems.push(`${at(HEALTHCHECK)}: the HEALTHCHECK uses curl/wget, which node:*-slim images lack`);
    }
    expect(problems).toEqual([]);
  });

  test("every stage is an official Node image of package.json's Node major, and the native modules are built on the runtime's base", () => {
    const problems: string[] = [];
    const engineMajor = /(\d+)/.exec(pkg.engines?.node ?? '')?.[1];
    for (const stage of df.stages) {
      if (df.stages.some((s) => s.name === stage.base)) continue;
      const m = /^(?:docker\.io\/)?(?:library\/)?node:(\d+)(-[a-z0-9.-]+)?$/.exec(stage.base);
      if (!m)
        problems.push(
          `${DOCKERFILE}: stage ${stageKey(stage)} is FROM ${stage.base}, not an official node:<major>[-variant] image pinned by major`,
        );
      else if (m[1] !== engineMajor)
        problems.push(
          `${DOCKERFILE}: stage ${stageKey(stage)} is FROM ${stage.base} (Node ${m[1]}) but package.json's engines.node is ${pkg.engines?.node}`,
        );
      else if (m[1] !== process.versions.node.split('.')[0])
        problems.push(
          `${DOCKERFILE}: stage ${stageKey(stage)} uses Node ${m[1]} but this test stands in for it with this machine's Node ${process.versions.node}`,
        );
    }
    const nodeModules = instructionsOf(df.final, 'COPY').find(
      (i) => i.flags.from && copyArgs(i.args).sources.some((s) => /node_modules\/?$/.test(s)),
    );
    const from = nodeModules && df.stages.find((s) => stageKey(s) === nodeModules.flags.from);
    if (!nodeModules || !from)
      problems.push(`${DOCKERFILE}: the final stage does not COPY node_modules --from another stage`);
    else {
      if (!runCommands(from).some(({ cmd }) => /^npm ci\b.*--omit=dev\b/.test(cmd)))
        problems.push(
          `${at(nodeModules)}: node_modules comes from stage ${stageKey(from)}, which runs no "npm ci --omit=dev"`,
        );
      if (from.base !== df.final.base)
        problems.push(
          `${at(nodeModules)}: node_modules (with better-sqlite3's native binary) is built on ${from.base} but runs on ${df.final.base}; Node ABI and glibc must match`,
        );
    }
    const pinned = runCommands(from ?? df.final)
      .map(({ cmd }) => /^npm install -g npm@(\d+)/.exec(cmd)?.[1])
      .find(Boolean);
    const hostNpm = spawnSync('npm', ['--version'], { encoding: 'utf8' }).stdout.trim();
    if (pinned && pinned !== hostNpm.split('.')[0])
      problems.push(
        `${DOCKERFILE}: the production install uses npm ${pinned} but this machine's npm, which wrote package-lock.json and honours allowScripts, is ${hostNpm}`,
      );
    expect(problems).toEqual([]);
  });

  test('the final stage installs no compiler and does not build: it copies what other stages built', () => {
    const problems: string[] = [];
    for (const { cmd, instruction } of runCommands(df.final)) {
      if (/\b(apt-get|apt|apk|yum|dnf)\b.*\binstall\b/.test(cmd))
        problems.push(
          `${at(instruction)}: the final stage installs system packages ("${cmd}"); the toolchain belongs in a build stage`,
        );
      if (/^npm\b/.test(cmd))
        problems.push(
          `${at(instruction)}: the final stage runs "${cmd}"; install and build in earlier stages and COPY --from them`,
        );
    }
    expect(problems).toEqual([]);
  });

  test('.dockerignore keeps build output, local state and secrets out, and nothing the Dockerfile copies', () => {
    const problems: string[] = [];
    const ignored = dockerignore(existsSync(join(ROOT, '.dockerignore')) ? read('.dockerignore') : '');
    for (const path of [
      'node_modules',
      'dist',
      'logs',
      'data',
      'coverage',
      '.git',
      'app.conf',
      'config/app.conf',
      'docker/app.conf',
    ]) {
      if (!ignored(path)) problems.push(`.dockerignore lets ${path} into the build context`);
    }
    for (const stage of df.stages) {
      for (const copy of instructionsOf(stage, 'COPY').filter((i) => !i.flags.from)) {
        for (const source of copyArgs(copy.args).sources) {
          if (ignored(source))
            problems.push(`${at(copy)}: COPY ${source}, but .dockerignore keeps it out of the build context`);
          if (!existsSync(join(ROOT, source)))
            problems.push(`${at(copy)}: COPY ${source}, which the repo does not have`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  test('config/app.conf.example reads the same through docker --env-file as through dotenv (no quoting, no export)', () => {
    const text = read(EXAMPLE);
    const viaDocker = Object.fromEntries(Object.entries(readEnvFile(text)).map(([k, v]) => [k, v.trim()]));
    const viaDotenv = dotenv.parse(text);
    expect(viaDocker).toEqual(viaDotenv);
  });
});

describe('docker/docker-compose.yml agrees with docker/Dockerfile', () => {
  const compose = parseYaml(read(COMPOSE)) as { [key: string]: Yaml };
  const services = (compose.services ?? {}) as { [name: string]: { [key: string]: Yaml } };
  const [name, service] = Object.entries(services)[0] ?? ['', {}];
  const list = (v: Yaml | undefined): Yaml[] => (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]);
  /** A compose value as text: a scalar as YAML wrote it, a list or mapping as JSON (String() would say [object Object]). */
  const text = (v: Yaml | undefined): string => (typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v));

  test('one service, built from docker/Dockerfile, configured by env_file app.conf', () => {
    const problems: string[] = [];
    if (Object.keys(services).length !== 1)
      problems.push(`${COMPOSE} should define exactly one service, has ${Object.keys(services).join(', ') || 'none'}`);
    const build = service.build as { [key: string]: Yaml } | undefined;
    const dockerfile =
      build &&
      posix.normalize(posix.join('docker', text(build.context ?? '.'), text(build.dockerfile ?? 'Dockerfile')));
    if (dockerfile !== DOCKERFILE)
      problems.push(
        `${COMPOSE}: build resolves to ${dockerfile} (context ${text(build?.context)}, dockerfile ${text(build?.dockerfile)}), not ${DOCKERFILE}`,
      );
    if (build && posix.normalize(posix.join('docker', text(build.context))) !== '.')
      problems.push(`${COMPOSE}: build.context is not the repo root, where .dockerignore and the COPY sources are`);
    const envFiles = list(service.env_file).map(text);
    if (envFiles.join() !== 'app.conf')
      problems.push(
        `${COMPOSE}: env_file is ${envFiles.join(', ') || 'missing'}, not app.conf (the old tool's --env-file)`,
      );
    expect(problems).toEqual([]);
  });

  test('the same port, volumes and health check as the image', () => {
    const problems: string[] = [];
    const containerPorts = list(service.ports).map((p) =>
      text(p)
        .split(':')
        .at(-1)!
        .replace(/\/tcp$/, ''),
    );
    if (containerPorts.join() !== EXPOSED.join())
      problems.push(
        `${COMPOSE}: ports publish container port(s) ${containerPorts.join(', ') || 'none'} but the image EXPOSEs ${EXPOSED.join(', ')}`,
      );
    const targets = list(service.volumes).map((v) => text(v).split(':')[1]);
    if ([...targets].sort().join() !== [...VOLUMES].sort().join())
      problems.push(
        `${COMPOSE}: volumes mount ${targets.join(', ')} but the image's VOLUMEs are ${VOLUMES.join(', ')}`,
      );
    const topVolumes = (compose.volumes ?? {}) as { [key: string]: Yaml };
    for (const v of list(service.volumes).map((v) => text(v).split(':')[0])) {
      if (!v.startsWith('/') && !v.startsWith('.') && !(v in topVolumes))
        problems.push(`${COMPOSE}: named volume ${v} is not declared under volumes:`);
    }
    const health = service.healthcheck as { [key: string]: Yaml } | undefined;
    const test = list(health?.test).map(text);
    if (test[0] !== 'CMD' || JSON.stringify(test.slice(1)) !== JSON.stringify(HEALTH_ARGV))
      problems.push(
        `${COMPOSE}: healthcheck.test is not ["CMD", ...] with the Dockerfile's HEALTHCHECK command (${JSON.stringify(HEALTH_ARGV)})`,
      );
    for (const [flag, key] of [
      ['interval', 'interval'],
      ['timeout', 'timeout'],
      ['start-period', 'start_period'],
      ['retries', 'retries'],
    ] as const) {
      if (text(health?.[key]) !== String(HEALTHCHECK?.flags[flag]))
        problems.push(
          `${COMPOSE}: healthcheck.${key} is ${text(health?.[key])} but the Dockerfile's HEALTHCHECK --${flag} is ${HEALTHCHECK?.flags[flag]}`,
        );
    }
    expect(problems).toEqual([]);
  });

  test("hardened, restarted, stopped gracefully, on Harbor's network", () => {
    const problems: string[] = [];
    if (service.restart !== 'unless-stopped')
      problems.push(`${COMPOSE}: restart is ${text(service.restart)}, not unless-stopped`);
    if (service.read_only !== true) problems.push(`${COMPOSE}: read_only is not true`);
    if (
      !list(service.tmpfs)
        .map(text)
        .some((t) => t.split(':')[0] === '/tmp')
    )
      problems.push(`${COMPOSE}: no tmpfs on /tmp (SQLite's temporary files) beside read_only`);
    if (JSON.stringify(service.cap_drop) !== '["ALL"]')
      problems.push(`${COMPOSE}: cap_drop is ${JSON.stringify(service.cap_drop)}, not [ALL]`);
    if (!list(service.security_opt).includes('no-new-privileges:true'))
      problems.push(`${COMPOSE}: security_opt lacks no-new-privileges:true`);
    if (service.privileged === true) problems.push(`${COMPOSE}: privileged is true`);
    const grace = /^(\d+)s$/.exec(text(service.stop_grace_period))?.[1];
    if (!grace || Number(grace) <= DEFAULTS.shutdownGraceMs / 1000)
      problems.push(
        `${COMPOSE}: stop_grace_period ${text(service.stop_grace_period)} does not outlast ShutdownGraceSeconds' default (${DEFAULTS.shutdownGraceMs / 1000}s) plus the service's stop margin; docker would SIGKILL running copies`,
      );
    const networks = (compose.networks ?? {}) as { [key: string]: { [key: string]: Yaml } };
    const harbor = list(service.networks)
      .map(text)
      .find((n) => networks[n]?.name === 'harbor_harbor');
    if (!harbor || networks[harbor].external !== true)
      problems.push(
        `${COMPOSE}: the service does not join the external network harbor_harbor that Harbor's installer creates`,
      );
    const url = `http://${name}:${EXPOSED[0]}/service/notifications`;
    if (!read(COMPOSE).includes(url))
      problems.push(`${COMPOSE}: the Harbor 1.x example does not send to ${url} (service name and port)`);
    if (!read('src/http/routes/notifications.ts').includes("'/service/notifications'"))
      problems.push('the service no longer serves /service/notifications, which the compose example sends to');
    expect(problems).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------------
// The image built and started outside Docker.

/** GET on its own connection; a refused connection is status 0. */
function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve({ status: 0, body }));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve({ status: 0, body: '' }));
    req.end();
  });
}

const children = new Set<ChildProcess>();

interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

function run(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; uid?: number; gid?: number; timeoutMs?: number },
): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      uid: options.uid,
      gid: options.gid,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = options.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), options.timeoutMs) : undefined;
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      // 'exit' can come before the pipes are drained.
      setImmediate(() => resolve({ code, signal, output }));
    });
  });
}

/** What the emulation did instead of a step it cannot do (system packages, the pinned npm), for the log. */
const substituted: string[] = [];

/** What a RUN step sees: the image's ENV on a clean environment (plus where npm keeps its cache and config). */
function runEnv(stageEnv: Record<string, string>, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const keep = Object.fromEntries(
    Object.entries(process.env).filter(([k]) =>
      /^(PATH|HOME|LANG|npm_config_(cache|registry|userconfig|globalconfig)|(HTTPS?|NO)_PROXY)$/i.test(k),
    ),
  );
  return { ...keep, ...stageEnv, ...extra };
}

/**
 * better-sqlite3's install script fetches a prebuilt binary from GitHub, which this machine cannot reach, and
 * else compiles SQLite for a minute. It also takes a prebuilt from a local directory: give it the one this
 * repo's own install produced for the same version and Node ABI, as the download would have.
 */
async function localPrebuilds(dir: string): Promise<Record<string, string>> {
  const pkgDir = join(ROOT, 'node_modules', 'better-sqlite3');
  const binary = join(pkgDir, 'build', 'Release', 'better_sqlite3.node');
  const wanted = lock.packages['node_modules/better-sqlite3']?.version;
  if (
    !wanted ||
    !existsSync(binary) ||
    (JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { version: string }).version !== wanted
  ) {
    substituted.push('nothing for better-sqlite3: compiled from source (about 2 minutes)');
    return {};
  }
  await mkdir(dir, { recursive: true });
  const tarball = join(
    dir,
    `better-sqlite3-v${wanted}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`,
  );
  const tar = spawnSync('tar', ['-czf', tarball, '-C', pkgDir, 'build/Release/better_sqlite3.node']);
  if (tar.status !== 0) return {};
  substituted.push(`better-sqlite3's prebuilt download (the repo's own build of v${wanted})`);
  return { npm_config_better_sqlite3_local_prebuilds: dir };
}

interface BuiltStage {
  root: string;
  workdir: string;
  env: Record<string, string>;
  done: Promise<void>;
}

async function buildImage(dockerfile: Dockerfile, base: string): Promise<Map<string, BuiltStage>> {
  const stages = new Map<string, BuiltStage>();
  const prebuilds = await localPrebuilds(join(base, 'prebuilds'));
  for (const stage of dockerfile.stages) {
    const built: BuiltStage = {
      root: join(base, 'stages', stageKey(stage)),
      workdir: '/',
      env: {},
      done: Promise.resolve(),
    };
    const inStage = (path: string) => join(built.root, posix.resolve(built.workdir, path));
    built.done = (async () => {
      if (stages.has(stage.base))
        throw new Error(
          `${DOCKERFILE}: stage ${stageKey(stage)} is FROM stage ${stage.base}, which this test does not emulate`,
        );
      await mkdir(built.root, { recursive: true });
      for (const i of stage.instructions) {
        const where = `${at(i)} (stage ${stageKey(stage)})`;
        switch (i.keyword) {
          case 'WORKDIR':
            built.workdir = posix.resolve(built.workdir, i.args);
            await mkdir(inStage('.'), { recursive: true });
            break;
          case 'ENV':
            Object.assign(built.env, envArgs(i.args));
            break;
          case 'COPY': {
            const { sources, dest } = copyArgs(i.args);
            const from = i.flags.from ? stages.get(i.flags.from) : undefined;
            if (i.flags.from && !from) throw new Error(`${where}: COPY --from=${i.flags.from} names no earlier stage`);
            await from?.done;
            const into = dest.endsWith('/') || sources.length > 1;
            for (const source of sources) {
              if (/[*?[]/.test(source))
                throw new Error(`${where}: COPY with a wildcard (${source}) is not emulated by this test`);
              const src = from ? join(from.root, posix.resolve('/', source)) : join(ROOT, source);
              if (!existsSync(src))
                throw new Error(
                  `${where}: COPY ${source}: not found in ${from ? `stage ${i.flags.from}` : 'the build context'}`,
                );
              const isDir = (await stat(src)).isDirectory();
              const target = into && !isDir ? join(inStage(dest), basename(source)) : inStage(dest);
              await cp(src, target, { recursive: true, verbatimSymlinks: true });
            }
            break;
          }
          case 'RUN':
            if (execForm(i.args)) throw new Error(`${where}: exec-form RUN is not emulated by this test`);
            for (const cmd of i.args.split('&&').map((c) => c.trim())) {
              const words = cmd.split(/\s+/);
              const cwd = inStage('.');
              if (/^(apt-get|rm -rf \/var\/lib\/apt\/lists)/.test(cmd)) {
                substituted.push(`${where}: "${cmd}" (system packages: this machine's)`);
              } else if (/^npm install -g npm@/.test(cmd)) {
                substituted.push(
                  `${where}: "${cmd}" (this machine's npm ${spawnSync('npm', ['--version'], { encoding: 'utf8' }).stdout.trim()})`,
                );
              } else if (words[0] === 'npm' && words[1] === 'ci' && !words.includes('--omit=dev')) {
                // The build stage's full install: this repo's node_modules, installed from the same lock file.
                if (built.env.NODE_ENV === 'production' && !words.includes('--include=dev'))
                  throw new Error(
                    `${where}: "${cmd}" under ENV NODE_ENV=production leaves out the dev dependencies the build needs (typescript)`,
                  );
                if (readFileSync(join(cwd, 'package-lock.json'), 'utf8') !== read('package-lock.json'))
                  throw new Error(
                    `${where}: the stage's package-lock.json is not the repo's, so the repo's node_modules cannot stand in for "${cmd}"`,
                  );
                await symlink(join(ROOT, 'node_modules'), join(cwd, 'node_modules'));
                substituted.push(`${where}: "${cmd}" (the repo's node_modules)`);
              } else if (words[0] === 'npm' && (words[1] === 'ci' || words[1] === 'run')) {
                const args = words[1] === 'ci' ? [...words.slice(1), '--prefer-offline'] : words.slice(1);
                const ran = await run('npm', args, { cwd, env: runEnv(built.env, prebuilds) });
                if (ran.code !== 0)
                  throw new Error(
                    `${where}: "npm ${args.join(' ')}" failed (${ran.code ?? ran.signal}):\n${ran.output}`,
                  );
              } else if (words[0] === 'mkdir' && words[1] === '-p') {
                for (const path of words.slice(2)) await mkdir(inStage(path), { recursive: true });
              } else if (words[0] === 'chown' && words.length >= 3 && !words[1].startsWith('-')) {
                const [uid, gid] = words[1].split(':').map(Number);
                if (!Number.isInteger(uid)) throw new Error(`${where}: "${cmd}": only numeric owners are emulated`);
                if (process.getuid?.() === 0)
                  for (const path of words.slice(2)) await chown(inStage(path), uid, gid ?? uid);
              } else {
                throw new Error(
                  `${where}: this test does not know how to carry out "${cmd}" outside Docker; teach tests/cli/docker-image.test.ts`,
                );
              }
            }
            break;
          case 'USER':
          case 'EXPOSE':
          case 'VOLUME':
          case 'HEALTHCHECK':
          case 'ENTRYPOINT':
          case 'CMD':
          case 'LABEL':
          case 'STOPSIGNAL':
            break; // metadata, read from the parsed Dockerfile where it is used
          default:
            throw new Error(
              `${where}: ${i.keyword} is not emulated by this test; teach tests/cli/docker-image.test.ts`,
            );
        }
      }
    })();
    // Stages run side by side, as BuildKit runs them; COPY --from waits for its stage.
    built.done.catch(() => undefined);
    stages.set(stageKey(stage), built);
    if (stage.name) stages.set(String(stage.index), built);
  }
  const all = [...new Set(stages.values())].map((s) => s.done);
  try {
    await Promise.all(all);
  } catch (error) {
    // Let no stage go on writing into a directory that is about to be removed.
    for (const child of children) child.kill('SIGKILL');
    await Promise.allSettled(all);
    throw error;
  }
  return stages;
}

describe('the image, built and started outside Docker', () => {
  let base = '';
  let runtime: BuiltStage;
  let service: ChildProcess | undefined;
  let serviceExit: Promise<Ran>;
  let containerEnv: NodeJS.ProcessEnv;
  let port = 0;
  const user = numericUser();
  // As root this runs the service as the image's USER, so writes outside the volumes fail as in the image.
  const asUser = process.getuid?.() === 0 && user ? user : {};
  const inRuntime = (path: string) => join(runtime.root, posix.resolve(WORKDIR, path));
  const timings: string[] = [];

  const healthcheck = () =>
    run(HEALTH_ARGV![0], HEALTH_ARGV!.slice(1), {
      cwd: inRuntime('.'),
      env: containerEnv,
      ...asUser,
      timeoutMs: 1000 * (Number(/^(\d+)s$/.exec(HEALTHCHECK?.flags.timeout ?? '')?.[1]) || 30),
    });

  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'swr-harbor-sync-image-'));
    await chmod(base, 0o755); // the service's user must reach its files, as in the image
    let t = Date.now();
    const stages = await buildImage(df, base);
    timings.push(`build ${((Date.now() - t) / 1000).toFixed(1)} s`);
    runtime = stages.get(stageKey(df.final))!;

    // The user's app.conf: the example, filled in, passed as `docker run --env-file=app.conf`.
    const conf = read(EXAMPLE)
      .replace(/^HWAK=.*$/m, 'HWAK=TESTACCESSKEYVALUE01')
      .replace(/^HWSK=.*$/m, 'HWSK=test-secret-key-value-0123456789')
      .replace(/^HarborPassword=.*$/m, 'HarborPassword=Harbor12345');
    await writeFile(join(base, 'app.conf'), conf);
    port = await freePort();
    const closed = await freePort();
    // `-e` overrides, as a user gives them; the volumes are mounted where the image declares them, and Harbor
    // and the destination point at a closed loopback port so that nothing here can reach out.
    const overrides = {
      Port: String(port),
      ListenAddress: '127.0.0.1',
      LogDir: join(runtime.root, EXPECTED_VOLUMES.LogDir),
      HarborAddr: `127.0.0.1:${closed}`,
      SWRRegistry: `127.0.0.1:${closed}`,
    };
    containerEnv = {
      PATH: process.env.PATH,
      HOSTNAME: 'swr-harbor-sync',
      HOME: join(runtime.root, 'home', 'node'),
      ...runtime.env,
      ...readEnvFile(await readFile(join(base, 'app.conf'), 'utf8'), {}),
      ...overrides,
    };
    const entrypoint = last(df.final, 'ENTRYPOINT');
    const cmd = last(df.final, 'CMD');
    const argv = [...(entrypoint ? commandArgv(entrypoint.args) : []), ...(cmd ? commandArgv(cmd.args) : [])];
    if (argv.length === 0) throw new Error(`${DOCKERFILE}: the final stage has neither ENTRYPOINT nor CMD`);
    t = Date.now();
    const child = spawn(argv[0], argv.slice(1), {
      cwd: inRuntime('.'),
      env: containerEnv,
      ...asUser,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    service = child;
    children.add(child);
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    serviceExit = new Promise((resolve) =>
      child.once(
        'exit',
        (code, signal) => (children.delete(child), setImmediate(() => resolve({ code, signal, output }))),
      ),
    );
    await until(
      "the image's command to answer /healthz",
      async () => {
        if (child.exitCode !== null || child.signalCode !== null)
          throw new Error(
            `${argv.join(' ')} (ENTRYPOINT + CMD, in WORKDIR ${WORKDIR}) exited ${child.exitCode ?? child.signalCode} before answering /healthz:\n${output}`,
          );
        return (await get(`http://127.0.0.1:${port}/healthz`)).status === 200 ? true : undefined;
      },
      20_000,
    ).catch((error: Error) => {
      throw /^timed out waiting/.test(error.message)
        ? new Error(`${argv.join(' ')} did not answer /healthz within 20 s:\n${output}`)
        : error;
    });
    timings.push(`start ${((Date.now() - t) / 1000).toFixed(1)} s`);
  }, 240_000);

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    if (service && service.exitCode === null && service.signalCode === null) await serviceExit;
    if (base) await rm(base, { recursive: true, force: true });
    process.stdout.write(`docker-image: ${timings.join(', ')}; stood in for: ${substituted.join('; ')}\n`);
  });

  test('the runtime node_modules has every production dependency and no dev dependency', async () => {
    const problems: string[] = [];
    for (const name of Object.keys(pkg.dependencies))
      if (!existsSync(inRuntime(`node_modules/${name}`)))
        problems.push(`production dependency ${name} is missing from the image's node_modules`);
    const dev = new Set([
      ...Object.keys(pkg.devDependencies).map((n) => `node_modules/${n}`),
      ...Object.entries(lock.packages)
        .filter(([, p]) => p.dev)
        .map(([path]) => path),
    ]);
    for (const path of [...dev].sort()) {
      const found = await lstat(inRuntime(path)).then(
        () => true,
        () => false,
      );
      if (found)
        problems.push(
          `dev dependency ${path} is in the image (the runtime's node_modules must come from "npm ci --omit=dev")`,
        );
    }
    expect(problems.slice(0, 20)).toEqual([]);
  });

  test("the service started from ENTRYPOINT/CMD with the image's ENV and an --env-file answers /healthz", async () => {
    const res = await get(`http://127.0.0.1:${port}/healthz`);
    expect({
      status: res.status,
      body: res.status === 200 ? (JSON.parse(res.body) as { status: string }).status : res.body,
    }).toEqual({ status: 200, body: 'ok' });
  });

  test("the HEALTHCHECK's own command exits 0", async () => {
    const ran = await healthcheck();
    expect(
      ran.code === 0
        ? []
        : [
            `the HEALTHCHECK (${at(HEALTHCHECK!)}) exited ${ran.code ?? ran.signal} against the running service (Port=${port} from the environment): ${ran.output}`,
          ],
    ).toEqual([]);
  });

  test('its state goes to the VOLUMEs only', async () => {
    const problems: string[] = [];
    if (!existsSync(join(runtime.root, EXPECTED_VOLUMES.DataDir, 'jobs.sqlite')))
      problems.push(
        `no jobs.sqlite in the DataDir VOLUME ${EXPECTED_VOLUMES.DataDir}: DataDir from the --env-file does not resolve there from WORKDIR ${WORKDIR}`,
      );
    if (!existsSync(join(runtime.root, EXPECTED_VOLUMES.LogDir, 'running.log')))
      problems.push(`no running.log in the LogDir VOLUME ${EXPECTED_VOLUMES.LogDir}`);
    if ('uid' in asUser) {
      // Everything the service's user owns must be a volume or under one (read_only: true allows no more).
      const volumes = Object.values(EXPECTED_VOLUMES).map((v) => join(runtime.root, v));
      const walk = async (dir: string): Promise<void> => {
        for (const entry of await readdir(dir, { withFileTypes: true })) {
          const path = join(dir, entry.name);
          if (volumes.some((v) => path === v || path.startsWith(`${v}/`))) continue;
          if ((await lstat(path)).uid === asUser.uid)
            problems.push(
              `the service (uid ${asUser.uid}) wrote ${path.slice(runtime.root.length)} outside the VOLUMEs; the read-only root filesystem would refuse it`,
            );
          if (entry.isDirectory()) await walk(path);
        }
      };
      await walk(runtime.root);
    }
    expect(problems).toEqual([]);
  });

  test('SIGTERM (docker stop) ends it with exit 0, and the HEALTHCHECK then fails', async () => {
    service!.kill('SIGTERM');
    const exit = await serviceExit;
    const problems: string[] = [];
    if (exit.code !== 0)
      problems.push(`after SIGTERM the service exited ${exit.code ?? exit.signal}, not 0:\n${exit.output}`);
    const ran = await healthcheck();
    if (ran.code === 0)
      problems.push(
        `the HEALTHCHECK (${at(HEALTHCHECK!)}) still exits 0 with the service stopped: it does not check the service`,
      );
    expect(problems).toEqual([]);
  });
});
