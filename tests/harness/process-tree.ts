// Owns looking at processes through /proc (Linux): a process's descendants, its command line, whether it still
// runs, and npm run as a user runs it (output collected, no test-runner variables leaking into it).
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { CONFIG_KEYS } from '../../src/config/keys.js';

function stat(pid: number): { state: string; ppid: number } | undefined {
  try {
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after its last ')'.
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [state, ppid] = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state, ppid: Number(ppid) };
  } catch {
    return undefined;
  }
}

/** Running (not exited, not a zombie waiting to be reaped). */
export function isRunning(pid: number): boolean {
  const s = stat(pid);
  return s !== undefined && s.state !== 'Z' && s.state !== 'X';
}

export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

/** Every process below `pid`, at any depth. */
export function descendants(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = stat(Number(name));
    if (s) parents.set(s.ppid, [...(parents.get(s.ppid) ?? []), Number(name)]);
  }
  const found: number[] = [];
  const walk = (p: number) => {
    for (const child of parents.get(p) ?? []) {
      found.push(child);
      walk(child);
    }
  };
  walk(pid);
  return found;
}

/**
 * The environment a user's shell would give npm: the test runner's own without configuration keys (they would
 * override app.conf), CONFIG_FILE, or the npm_* variables of the `npm test` that started jest.
 */
export function userEnvironment(extra: Record<string, string> = {}): Record<string, string> {
  const keys = new Set<string>([...Object.keys(CONFIG_KEYS), 'CONFIG_FILE']);
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env))
    if (value !== undefined && !keys.has(name) && !/^npm_/i.test(name) && name !== 'INIT_CWD') env[name] = value;
  return { ...env, ...extra };
}

export interface NpmRun {
  child: ChildProcess;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `npm <args>` in `cwd`, stdout and stderr collected together; `exited` settles when npm itself has exited. */
export function runNpm(args: string[], cwd: string, env: Record<string, string>): NpmRun {
  const child = spawn('npm', args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', reject);
    // Settled by npm's own exit: a process it left behind may hold the output pipes open for ever. The output
    // written before the exit may still be in the pipes, so give them a moment to drain.
    child.once('exit', (code, signal) => {
      const drained = setTimeout(() => resolve({ code, signal }), 2000);
      child.once('close', () => {
        clearTimeout(drained);
        resolve({ code, signal });
      });
    });
  });
  return { child, output: () => output, exited };
}
