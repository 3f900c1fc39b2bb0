// Owns running the built command line (dist/bin/, as npm run build bundles it) as a child process, with its output and peak memory.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/bin/swr-harbor-sync.js', import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Peak resident set size in bytes (VmHWM), polled from /proc while the process ran. */
  peakRss: number;
}

async function highWaterMark(pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = /VmHWM:\s+(\d+) kB/.exec(status);
    return kb ? Number(kb[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** `options.cwd`: where the command runs (where app.conf is looked for); the test's own by default. */
export function runCli(
  args: string[],
  env: Record<string, string> = {},
  options: { cwd?: string; replaceEnv?: boolean } = {},
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: options.replaceEnv ? env : { ...process.env, ...env },
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let peakRss = 0;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const poll = setInterval(() => {
      // highWaterMark never rejects (a vanished process reads as undefined).
      if (child.pid)
        void highWaterMark(child.pid).then((hwm) => {
          if (hwm) peakRss = Math.max(peakRss, hwm);
        });
    }, 25);
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(poll);
      resolve({ code, stdout, stderr, peakRss });
    });
  });
}

/** A frame of a JavaScript stack trace as Node prints an uncaught error: what no command's output may hold. */
export const STACK_FRAME = /^\s+at .+(:\d+:\d+\)?|\(node:.+\))$/m;
