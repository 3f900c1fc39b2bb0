// Owns where the copy benchmark's registries keep their storage (and the tools their temp files).
// On this kind of VM the root filesystem is ext4 mounted with `discard`: every deleted destination
// queues TRIM work that slows the next run's writes, so run times grew 0.85 -> 1.4 s over 7 runs of
// the same copy while the tools' CPU time stayed flat. Both tools write the same bytes to the same
// registries; memory-backed storage takes the disk's state out of the comparison.
import { accessSync, constants, statfsSync } from 'node:fs';

const TMPFS_MAGIC = 0x01021994;

function isWritableTmpfs(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return statfsSync(dir).type === TMPFS_MAGIC;
  } catch {
    return false;
  }
}

/**
 * Points TMPDIR (read by os.tmpdir() in the registry harness, and by skopeo) at BENCH_TMPDIR, or at
 * /dev/shm when it is a writable tmpfs. Returns a line saying which, for the report.
 */
export function chooseScratchDir(env: NodeJS.ProcessEnv): string {
  const asked = env.BENCH_TMPDIR;
  if (asked) {
    env.TMPDIR = asked;
    return `registry storage and temp files in ${asked} (BENCH_TMPDIR)`;
  }
  if (isWritableTmpfs('/dev/shm')) {
    env.TMPDIR = '/dev/shm';
    return 'registry storage and temp files in /dev/shm (tmpfs; BENCH_TMPDIR=/tmp to measure on disk)';
  }
  return `registry storage and temp files in ${env.TMPDIR ?? '/tmp'} (no writable tmpfs at /dev/shm)`;
}
