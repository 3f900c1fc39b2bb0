// Owns running `serve` of the built command line (dist/) as a real child process: its app.conf and
// data/log directories in a temp dir, readiness, signals (SIGTERM, SIGKILL), restarts on the same
// DataDir, and plain one-connection HTTP calls that report a refused connection instead of throwing.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInThisContext } from 'node:vm';
import { CLI } from './cli.js';
import { testServiceConfig } from './service.js';
import { until } from './until.js';
import { appConfText } from './app-conf.js';

const CHILDREN = Symbol.for('swr-harbor-sync.test-serve-processes');
// Under jest the global `process` is a sandbox copy whose 'exit' never fires; this is the real one.
const realProcess = runInThisContext('process') as NodeJS.Process & { [CHILDREN]?: Set<ChildProcess> };
const children = realProcess[CHILDREN] ?? hookExit();

function hookExit(): Set<ChildProcess> {
  const set = new Set<ChildProcess>();
  realProcess[CHILDREN] = set;
  realProcess.once('exit', () => {
    for (const child of set) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return set;
}

export interface ServeExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServeProcess {
  url: string;
  port: number;
  dir: string;
  dataDir: string;
  logDir: string;
  /** The keys written to app.conf. */
  values: Record<string, string>;
  /** The current process. */
  child: ChildProcess;
  /** stdout and stderr of every process started so far, in order. */
  output(): string;
  /** Settles when the current process has exited. */
  exited(): Promise<ServeExit>;
  /** Starts a new process on the same app.conf and DataDir (the previous one must have exited). */
  start(): Promise<void>;
  /** Sends a signal to the current process. */
  kill(signal: NodeJS.Signals): void;
  /** SIGKILLs whatever still runs and removes the temp dir. */
  stop(): Promise<void>;
}

export async function startServeProcess(
  harborHost: string,
  destinationHost: string,
  extra: Record<string, string> = {},
): Promise<ServeProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'swr-harbor-sync-serve-'));
  const dataDir = join(dir, 'data');
  const logDir = join(dir, 'logs');
  const confPath = join(dir, 'app.conf');
  const values = { ...(await testServiceConfig(harborHost, destinationHost, logDir, dataDir)), ...extra };
  const port = Number(values.Port);
  await writeFile(confPath, appConfText(values));
  const url = `http://127.0.0.1:${port}`;
  let output = '';
  let exit: Promise<ServeExit> = Promise.resolve({ code: null, signal: null });

  const spawnOne = (): ChildProcess => {
    // Only what the service needs: the test runner's environment would override app.conf keys.
    // No command at all: `serve` is the default, as `docker run` with the image's CMD relies on.
    const child = spawn(process.execPath, [CLI], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, CONFIG_FILE: confPath },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    exit = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        children.delete(child);
        resolve({ code, signal });
      }),
    );
    return child;
  };

  const waitHealthy = async (child: ChildProcess): Promise<void> => {
    await until(
      'serve to answer /healthz',
      async () => {
        if (child.exitCode !== null || child.signalCode !== null)
          throw new Error(
            `serve exited (${child.exitCode ?? child.signalCode}) before it answered; output:\n${output}`,
          );
        return (await plainRequest(`${url}/healthz`, 'GET')).status === 200 ? true : undefined;
      },
      15_000,
      50,
    ).catch((error: Error) => {
      throw /^timed out waiting/.test(error.message)
        ? new Error(`serve did not answer /healthz within 15 s; output:\n${output}`)
        : error;
    });
  };

  const sp: ServeProcess = {
    url,
    port,
    dir,
    dataDir,
    logDir,
    values,
    child: spawnOne(),
    output: () => output,
    exited: () => exit,
    async start() {
      if (sp.child.exitCode === null && sp.child.signalCode === null)
        throw new Error('start(): the previous serve process still runs');
      sp.child = spawnOne();
      await waitHealthy(sp.child);
    },
    kill(signal) {
      sp.child.kill(signal);
    },
    async stop() {
      if (sp.child.exitCode === null && sp.child.signalCode === null) {
        sp.child.kill('SIGKILL');
        await exit;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    await waitHealthy(sp.child);
  } catch (error) {
    await sp.stop();
    throw error;
  }
  return sp;
}

export interface PlainAnswer {
  /** 0 when no HTTP answer came. */
  status: number;
  /** The socket error's code (ECONNREFUSED, ECONNRESET) when no HTTP answer came. */
  error?: string;
  body: string;
}

/** One request on its own connection (no keep-alive pool): a refused connection is an answer, not a throw. */
export function plainRequest(
  url: string,
  method: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<PlainAnswer> {
  return new Promise((resolve) => {
    const req = request(
      url,
      {
        method,
        agent: false,
        timeout: 5000,
        headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on('error', (err: NodeJS.ErrnoException) =>
          resolve({ status: 0, error: err.code ?? err.message, body: text }),
        );
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ status: 0, error: err.code ?? err.message, body: '' }));
    req.end(body);
  });
}
