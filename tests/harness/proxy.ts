// Owns running a real forward proxy (Debian's tinyproxy) for tests: a free loopback port, a temp config and
// log, Basic credentials or a refusal on demand, and outgoing connections from an address of their own
// (127.0.0.2), so a server can tell a tunnelled connection from a direct one by its peer address.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { signalGroup, spawnWatched, trackedChildren } from './process-groups.js';
import { until } from './until.js';

export interface ProxyOptions {
  /** Asks for these Basic credentials (tinyproxy answers a wrong or missing pair with 401). */
  basicAuth?: { user: string; password: string };
  /** Refuses every CONNECT to a port other than this one (403), as squid's default allows 443 only. */
  onlyConnectPort?: number;
}

export interface RunningProxy {
  /** http://127.0.0.1:PORT, without credentials. */
  url: string;
  host: string;
  /** The address the proxy's own connections come from: what a server sees of a tunnelled client. */
  outgoingAddress: string;
  logPath: string;
  /** The proxy URL with `user:password@` (percent-encoded), the form HTTPS_PROXY takes. */
  urlWith(user: string, password: string): string;
  /** `host:port` of every CONNECT the proxy was asked for, in order. */
  tunnels(): Promise<string[]>;
  stop(): Promise<void>;
}

const TINYPROXY = '/usr/bin/tinyproxy';
const OUTGOING_ADDRESS = '127.0.0.2';
const running = trackedChildren('proxies');

// As for the registries: a pipe held only by this process; when it closes (this process died, even by SIGKILL),
// the proxy is killed and its temp dir removed.
const WATCHDOG = [
  'exec 3<&0',
  `${TINYPROXY} -d -c "$1" </dev/null &`,
  'proxy=$!',
  '{ cat <&3 >/dev/null; kill -KILL "$proxy"; sleep 1; rm -rf "$2"; } 2>/dev/null &',
  'wait "$proxy"',
].join('\n');

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

export async function startProxy(options: ProxyOptions = {}): Promise<RunningProxy> {
  if (!existsSync(TINYPROXY)) throw new Error(`${TINYPROXY} is missing: run \`apt-get install -y tinyproxy\``);
  const dir = await mkdtemp(join(tmpdir(), 'swr-harbor-sync-proxy-'));
  const port = await freePort();
  const logPath = join(dir, 'tinyproxy.log');
  const configPath = join(dir, 'tinyproxy.conf');
  await writeFile(
    configPath,
    [
      `Port ${port}`,
      'Listen 127.0.0.1',
      `Bind ${OUTGOING_ADDRESS}`,
      'Timeout 120',
      `LogFile "${logPath}"`,
      // Connect: one line per client connection and request, which is what the tests read.
      'LogLevel Connect',
      'MaxClients 200',
      'Allow 127.0.0.1',
      'DisableViaHeader Yes',
      ...(options.basicAuth ? [`BasicAuth ${options.basicAuth.user} ${options.basicAuth.password}`] : []),
      ...(options.onlyConnectPort ? [`ConnectPort ${options.onlyConnectPort}`] : []),
      '',
    ].join('\n'),
  );
  const child = spawnWatched(running, WATCHDOG, ['tinyproxy-watchdog', configPath, dir], dir, join(dir, 'stdout.log'));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      signalGroup(child, 'SIGKILL');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await until(
      'tinyproxy to accept connections',
      async () => {
        if (await accepts(port)) return true;
        if (child.exitCode !== null)
          throw new Error(`tinyproxy exited: ${await readFile(logPath, 'utf8').catch(() => '')}`);
        return undefined;
      },
      10_000,
      20,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    host: `127.0.0.1:${port}`,
    outgoingAddress: OUTGOING_ADDRESS,
    logPath,
    urlWith: (user, password) => `http://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}`,
    async tunnels() {
      const log = await readFile(logPath, 'utf8').catch(() => '');
      return [...log.matchAll(/Request \(file descriptor \d+\): CONNECT (\S+) HTTP/g)].map((m) => m[1]);
    },
    stop,
  };
}
