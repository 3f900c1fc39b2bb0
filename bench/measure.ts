// Owns running one tool invocation as a child process and measuring its wall time and peak RSS
// (GNU time's %M when available, else sampling VmHWM from /proc), and its CPU time (GNU time's %U + %S).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const GNU_TIME = '/usr/bin/time';
const OUTPUT_TAIL = 4000;

export interface Measured {
  wallMs: number;
  /** Bytes; 0 when it could not be measured. */
  peakRss: number;
  /** User + system CPU seconds of the tool (GNU time's %U + %S); undefined without GNU time. */
  cpuSeconds?: number;
  exitCode: number | null;
  /** Last part of stdout+stderr, for diagnosing a failed run. */
  output: string;
}

/** Installs Debian's `time` when missing and we are root; otherwise /proc sampling is used. */
export function ensureGnuTime(): boolean {
  if (existsSync(GNU_TIME)) return true;
  if (process.getuid?.() !== 0) return false;
  console.log('installing GNU time (apt-get install -y time) to measure peak RSS...');
  spawnSync(
    'sh',
    [
      '-c',
      'apt-get install -y time >/dev/null 2>&1 || (apt-get update >/dev/null 2>&1 && apt-get install -y time >/dev/null 2>&1)',
    ],
    {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    },
  );
  return existsSync(GNU_TIME);
}

async function sampleHighWaterMark(pid: number): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kib = /VmHWM:\s+(\d+)\s+kB/.exec(status)?.[1];
    return kib ? Number(kib) * 1024 : 0;
  } catch {
    return 0; // the process is gone; the last sample stands
  }
}

/**
 * What each measured tool is started with: PATH, HOME, TMPDIR and LANG, as a container would give it, unless
 * BENCH_INHERIT_ENV=1. This shell's environment can carry settings that change one tool's run and not the
 * other's: both honour http_proxy/NO_PROXY (a proxy between them and the loopback registries), Node reads
 * NODE_OPTIONS, and NODE_EXTRA_CA_CERTS (set on this VM) makes each Node start parse a CA bundle (a bare
 * `node -e 0` 50 ms with it, 18 ms without; within the noise of a whole copy here).
 */
export function toolEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (env.BENCH_INHERIT_ENV === '1') return env;
  const kept: NodeJS.ProcessEnv = { LANG: 'C.UTF-8' };
  for (const name of ['PATH', 'HOME', 'TMPDIR']) if (env[name] !== undefined) kept[name] = env[name];
  return kept;
}

export async function measure(command: string, args: string[], useGnuTime: boolean): Promise<Measured> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-measure-'));
  const timeFile = join(dir, 'time');
  const [file, argv] = useGnuTime ? [GNU_TIME, ['-f', '%M %U %S', '-o', timeFile, command, ...args]] : [command, args];
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_TAIL);
  };
  const started = process.hrtime.bigint();
  const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: toolEnvironment(process.env) });
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let sampled = 0;
  const sampler = useGnuTime
    ? undefined
    : setInterval(() => {
        if (child.pid) void sampleHighWaterMark(child.pid).then((v) => (sampled = Math.max(sampled, v)));
      }, 20);
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (sampler) clearInterval(sampler);
  let peakRss = sampled;
  let cpuSeconds: number | undefined;
  if (useGnuTime) {
    // GNU time writes "Command exited with non-zero status N" before its line on failure: take the last line.
    const lines = (await readFile(timeFile, 'utf8').catch(() => '')).trim().split('\n');
    const [rssKiB, user, system] = lines[lines.length - 1].split(' ').map(Number);
    peakRss = rssKiB * 1024 || 0;
    if (Number.isFinite(user) && Number.isFinite(system)) cpuSeconds = user + system;
  }
  await rm(dir, { recursive: true, force: true });
  return { wallMs, peakRss, cpuSeconds, exitCode, output };
}
