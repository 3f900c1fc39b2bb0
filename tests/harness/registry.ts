// Owns running a real Distribution registry (Debian's docker-registry) for tests: its config,
// auth setup, readiness wait, restart on the same port and making sure it never outlives us.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { freePort } from './ports.js';
import { signalGroup, spawnWatched, trackedChildren } from './process-groups.js';
import { startTokenServer, type TokenServer } from './token-server.js';
import { until } from './until.js';

export type RegistryAuth = 'none' | 'htpasswd' | 'token';

export interface RegistryOptions {
  auth?: RegistryAuth;
  username?: string;
  password?: string;
  tokenExpiresIn?: number; // what the token server announces in expires_in
  tokenValidFor?: number; // how long the registry really accepts a token
  extraConfig?: Record<string, unknown>; // deep-merged into the registry config
  tls?: { certificate: string; key: string }; // PEM files: serve HTTPS with them
}

export interface RunningRegistry {
  host: string;
  url: string;
  auth: RegistryAuth;
  username?: string;
  password?: string;
  storageDir: string;
  logPath: string;
  tokenServer?: TokenServer;
  stop(): Promise<void>;
  restart(): Promise<void>;
  /** Kills the registry process (an outage): storage, port and config stay, for up(). */
  down(): Promise<void>;
  /** Starts the registry again after down(), on the same port over the same storage. */
  up(): Promise<void>;
}

const REGISTRY_BINARY = '/usr/bin/docker-registry';
const READY_DEADLINE_MS = 10_000;

const running = trackedChildren('registries');

// The registry runs under a shell that also watches a pipe held only by this process: when
// this process dies in any way (even SIGKILL), the pipe closes, the registry is killed and
// its temp dir removed.
const WATCHDOG = [
  'exec 3<&0',
  `${REGISTRY_BINARY} serve "$1" </dev/null &`,
  'registry=$!',
  '{ cat <&3 >/dev/null; kill -KILL "$registry"; sleep 1; rm -rf "$2"; } 2>/dev/null &',
  'wait "$registry"',
].join('\n');

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function deepMerge(base: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
  }
  return out;
}

async function logTail(logPath: string, lines = 30): Promise<string> {
  try {
    const text = await readFile(logPath, 'utf8');
    return text.split('\n').slice(-lines).join('\n');
  } catch {
    return '(no registry log)';
  }
}

function probeStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const probe = url.startsWith('https:') ? httpsGet : get;
    const req = probe(`${url}/v2/`, { agent: false, timeout: 1000, rejectUnauthorized: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

async function waitReady(url: string, child: ChildProcess, logPath: string): Promise<void> {
  await until(
    'docker-registry to answer /v2/',
    async () => {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`docker-registry exited before it was ready; log tail:\n${await logTail(logPath)}`);
      }
      const status = await probeStatus(url);
      return status === 200 || status === 401 ? true : undefined;
    },
    READY_DEADLINE_MS,
    50,
  ).catch(async (error: Error) => {
    if (!/^timed out waiting/.test(error.message)) throw error;
    signalGroup(child, 'SIGKILL');
    throw new Error(
      `docker-registry at ${url} not ready within ${READY_DEADLINE_MS} ms; log tail:\n${await logTail(logPath)}`,
    );
  });
}

function spawnRegistry(dir: string, configPath: string, logPath: string): ChildProcess {
  return spawnWatched(running, WATCHDOG, ['registry-watchdog', configPath, dir], dir, logPath);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  signalGroup(child, 'SIGKILL');
  await exited;
}

function baseConfig(port: number, storageDir: string, secret: string): Record<string, unknown> {
  return {
    version: '0.1',
    log: { level: 'warn', formatter: 'text', accesslog: { disabled: true } },
    storage: {
      filesystem: { rootdirectory: storageDir },
      delete: { enabled: true },
      maintenance: { uploadpurging: { enabled: false } },
    },
    // A fixed secret keeps upload session state valid across restart().
    http: { addr: `127.0.0.1:${port}`, secret },
    health: { storagedriver: { enabled: false } },
  };
}

async function authConfig(
  auth: RegistryAuth,
  dir: string,
  username: string,
  password: string,
  opts: RegistryOptions,
): Promise<{ config: Record<string, unknown>; tokenServer?: TokenServer }> {
  if (auth === 'htpasswd') {
    const path = join(dir, 'htpasswd');
    // Cost 5 keeps each registry login check fast; the registry accepts any bcrypt cost.
    await writeFile(path, `${username}:${bcrypt.hashSync(password, 5)}\n`);
    return { config: { auth: { htpasswd: { realm: 'test-registry', path } } } };
  }
  if (auth === 'token') {
    const tokenDir = join(dir, 'token');
    await mkdir(tokenDir);
    const tokenServer = await startTokenServer({
      dir: tokenDir,
      username,
      password,
      expiresIn: opts.tokenExpiresIn ?? 300,
      validFor: opts.tokenValidFor,
    });
    const token = {
      realm: tokenServer.realm,
      service: tokenServer.service,
      issuer: tokenServer.issuer,
      rootcertbundle: tokenServer.certPath,
    };
    return { config: { auth: { token } }, tokenServer };
  }
  return { config: {} };
}

export async function startRegistry(opts: RegistryOptions = {}): Promise<RunningRegistry> {
  if (!existsSync(REGISTRY_BINARY)) {
    throw new Error(
      `${REGISTRY_BINARY} is missing: run \`apt-get install -y docker-registry\` (or \`npm test\`, which installs it when root)`,
    );
  }
  const auth = opts.auth ?? 'none';
  const username = opts.username ?? 'tester';
  const password = opts.password ?? 'secret-pass';
  const dir = await mkdtemp(join(tmpdir(), 'swr-harbor-sync-registry-'));
  const storageDir = join(dir, 'storage');
  const configPath = join(dir, 'config.yml');
  const logPath = join(dir, 'registry.log');
  await mkdir(storageDir);

  let tokenServer: TokenServer | undefined;
  let child: ChildProcess | undefined;
  let port = await freePort();
  let url = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`;

  const start = async (): Promise<void> => {
    child = spawnRegistry(dir, configPath, logPath);
    await waitReady(url, child, logPath);
  };

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (child) await stopChild(child);
    await tokenServer?.stop();
    await rm(dir, { recursive: true, force: true });
  };

  try {
    const extra = await authConfig(auth, dir, username, password, opts);
    tokenServer = extra.tokenServer;
    const secret = randomBytes(16).toString('hex');
    // A free port can be taken by another process between freePort() and the registry's bind (other suites
    // start servers at the same moment): on "address already in use", try again on another port.
    for (let attempt = 1; ; attempt++) {
      let config = deepMerge(baseConfig(port, storageDir, secret), extra.config);
      config = deepMerge(config, opts.extraConfig ?? {});
      if (opts.tls) config = deepMerge(config, { http: { tls: opts.tls } });
      // JSON is YAML, and it spares us a YAML writer.
      await writeFile(configPath, JSON.stringify(config, null, 2));
      try {
        await start();
        break;
      } catch (err) {
        if (attempt >= 3 || !(await logTail(logPath)).includes('address already in use')) throw err;
        port = await freePort();
        url = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
      }
    }
  } catch (err) {
    await stop();
    throw err;
  }

  const withCredentials = auth === 'none' ? {} : { username, password };
  return {
    host: `127.0.0.1:${port}`,
    url,
    auth,
    ...withCredentials,
    storageDir,
    logPath,
    tokenServer,
    stop,
    restart: async () => {
      if (stopped) throw new Error('restart() after stop()');
      if (child) await stopChild(child);
      await start();
    },
    down: async () => {
      if (stopped) throw new Error('down() after stop()');
      if (child) await stopChild(child);
    },
    up: async () => {
      if (stopped) throw new Error('up() after stop()');
      if (child && child.exitCode === null && child.signalCode === null) return;
      await start();
    },
  };
}
