// Owns running a real redis-server (Debian's) for tests: a free loopback port, a temp dir, the readiness
// wait, outages on demand (down/up, freeze/thaw) and making sure it never outlives us. One server can serve
// several suites: each takes its own key prefix.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { realProcess, signalGroup, spawnWatched, trackedChildren } from './process-groups.js';
import { until } from './until.js';

export interface RedisServerOptions {
  /** Started with --requirepass, to test URLs that carry a password. */
  password?: string;
}

export interface RunningRedis {
  /** redis://127.0.0.1:PORT, with the password in it when there is one. */
  url: string;
  port: number;
  host: string;
  password?: string;
  logPath: string;
  /** Where SAVE writes dump.rdb. */
  dir: string;
  /** A key prefix of its own for one test or suite (`test:<label>:<random>:`), so suites can share a server. */
  prefix(label: string): string;
  stop(): Promise<void>;
  /** Kills the server (an outage); port and dir stay, for up(). Nothing was saved, so data is gone. */
  down(): Promise<void>;
  up(): Promise<void>;
  /** SIGSTOP: the port still accepts connections but nothing answers (a hung server). */
  freeze(): void;
  thaw(): void;
}

const REDIS_BINARY = '/usr/bin/redis-server';
const READY_DEADLINE_MS = 10_000;

const running = trackedChildren('redis-servers');

// The server runs under a shell that also watches a pipe held only by this process: when this process dies
// in any way (even SIGKILL), the pipe closes and the server is killed and its temp dir removed.
const WATCHDOG = [
  'exec 3<&0',
  'dir="$1"; shift',
  `${REDIS_BINARY} "$@" </dev/null &`,
  'server=$!',
  '{ cat <&3 >/dev/null; kill -KILL "$server"; sleep 1; rm -rf "$dir"; } 2>/dev/null &',
  'wait "$server"',
].join('\n');

function spawnServer(dir: string, args: string[], logPath: string): ChildProcess {
  return spawnWatched(running, WATCHDOG, ['redis-watchdog', dir, ...args], dir, logPath);
}

function resp(...parts: string[]): string {
  return `*${parts.length}\r\n${parts.map((p) => `$${Buffer.byteLength(p)}\r\n${p}\r\n`).join('')}`;
}

/** True once the server answers PING with PONG (after AUTH when it has a password). */
function pings(port: number, password: string | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write((password ? resp('AUTH', password) : '') + resp('PING')));
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      if (reply.includes('+PONG')) done(true);
      else if (reply.startsWith('-') && reply.includes('\r\n')) done(false);
    });
  });
}

async function logTail(logPath: string): Promise<string> {
  try {
    return (await readFile(logPath, 'utf8')).split('\n').slice(-30).join('\n');
  } catch {
    return '(no redis log)';
  }
}

export async function startRedis(options: RedisServerOptions = {}): Promise<RunningRedis> {
  if (!existsSync(REDIS_BINARY)) {
    throw new Error(`${REDIS_BINARY} is missing: run \`apt-get install -y redis-server\``);
  }
  const dir = await mkdtemp(join(tmpdir(), 'swr-harbor-sync-redis-'));
  const logPath = join(dir, 'redis.log');
  const pidPath = join(dir, 'redis.pid');
  const port = await freePort();
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--protected-mode',
    'yes',
    '--dir',
    dir,
    '--pidfile',
    pidPath,
    '--save',
    '',
    // Uncompressed, so a test can search a SAVE's dump for strings that must never be stored (secrets).
    '--rdbcompression',
    'no',
    '--appendonly',
    'no',
    '--daemonize',
    'no',
    '--loglevel',
    'warning',
    ...(options.password ? ['--requirepass', options.password] : []),
  ];

  let child: ChildProcess | undefined;
  let serverPid: number | undefined;
  const start = async (): Promise<void> => {
    const current = spawnServer(dir, args, logPath);
    child = current;
    await until(
      'redis-server to answer PING',
      async () => {
        if (await pings(port, options.password)) return true;
        if (current.exitCode !== null || current.signalCode !== null) {
          throw new Error(`redis-server exited before it was ready; log tail:\n${await logTail(logPath)}`);
        }
        return undefined;
      },
      READY_DEADLINE_MS,
      20,
    ).catch(async (error: Error) => {
      if (!/^timed out waiting/.test(error.message)) throw error;
      signalGroup(current, 'SIGKILL');
      throw new Error(
        `redis-server on port ${port} did not answer PING within ${READY_DEADLINE_MS} ms; log tail:\n${await logTail(logPath)}`,
      );
    });
    serverPid = Number((await readFile(pidPath, 'utf8')).trim());
  };
  const kill = async (): Promise<void> => {
    const current = child;
    if (!current || current.exitCode !== null || current.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => current.once('exit', () => resolve()));
    signalGroup(current, 'SIGKILL');
    await exited;
  };
  const signalServer = (signal: NodeJS.Signals): void => {
    if (serverPid === undefined) throw new Error('redis-server is not running');
    realProcess.kill(serverPid, signal);
  };

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await kill();
    await rm(dir, { recursive: true, force: true });
  };

  try {
    await start();
  } catch (error) {
    await stop();
    throw error;
  }

  const auth = options.password ? `:${encodeURIComponent(options.password)}@` : '';
  return {
    url: `redis://${auth}127.0.0.1:${port}`,
    port,
    host: `127.0.0.1:${port}`,
    password: options.password,
    logPath,
    dir,
    prefix: (label) => `test:${label}:${randomBytes(4).toString('hex')}:`,
    stop,
    down: async () => {
      if (stopped) throw new Error('down() after stop()');
      await kill();
      serverPid = undefined;
    },
    up: async () => {
      if (stopped) throw new Error('up() after stop()');
      if (child && child.exitCode === null && child.signalCode === null) return;
      await start();
    },
    freeze: () => signalServer('SIGSTOP'),
    thaw: () => signalServer('SIGCONT'),
  };
}
