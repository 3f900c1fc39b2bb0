// Owns what the harness's server processes (registries, Redis) share: signalling a child's whole process
// group, and killing every such child, and removing its temp dir, when the test process exits.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, rmSync } from 'node:fs';
import { runInThisContext } from 'node:vm';

// Under jest the global `process` is a sandbox copy whose 'exit' never fires; this is the real one.
export const realProcess = runInThisContext('process') as NodeJS.Process &
  Record<symbol, Map<ChildProcess, string> | undefined>;

/**
 * The children of one kind (child -> its temp dir) that must not outlive this process. Jest loads the harness
 * afresh for every test file in a worker; the map and its exit hook are kept on the real process, once per kind.
 */
export function trackedChildren(kind: string): Map<ChildProcess, string> {
  const key = Symbol.for(`swr-harbor-sync.test-${kind}`);
  const existing = realProcess[key];
  if (existing) return existing;
  const children = new Map<ChildProcess, string>();
  realProcess[key] = children;
  realProcess.once('exit', () => {
    for (const [child, dir] of children) {
      signalGroup(child, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
  return children;
}

/** A signal to the child's process group (it was spawned detached), unless it has already exited. */
export function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    realProcess.kill(-child.pid, signal);
  } catch {
    // the whole group is already gone
  }
}

/** SIGKILL to the child's whole group even after the child itself exited: its watchdog may still run. */
export function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    realProcess.kill(-child.pid, 'SIGKILL');
  } catch {
    // the whole group is already gone
  }
}

/**
 * Starts `sh -c script name ...args` in a process group of its own, output appended to logPath, tracked in
 * `running` with `dir`. When the server dies (on purpose or not) its watchdog is ended at once, before the
 * closing pipe would make the watchdog delete `dir`, which a restart on the same storage needs.
 */
export function spawnWatched(
  running: Map<ChildProcess, string>,
  script: string,
  argv: string[],
  dir: string,
  logPath: string,
): ChildProcess {
  const logFd = openSync(logPath, 'a');
  try {
    const child = spawn('/bin/sh', ['-c', script, ...argv], {
      stdio: ['pipe', logFd, logFd],
      detached: true, // own process group, so one signal reaches the shell, the server and cat
    });
    running.set(child, dir);
    child.once('exit', () => {
      running.delete(child);
      killGroup(child);
      child.stdin?.destroy();
    });
    // Neither the child nor the watchdog pipe should keep a finished test process alive.
    child.unref();
    (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    return child;
  } finally {
    closeSync(logFd);
  }
}
