// Owns reading what a run cost the registries beside the tool: their processes' CPU time from /proc. With the
// tool's own CPU it gives the floor of a run on a machine of few cores, (tool + registries) / cores.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** USER_HZ, the unit of /proc/<pid>/stat's times: 100 on every Linux this runs on. */
const TICKS_PER_SECOND = 100;

/** The docker-registry process serving the harness registry whose storage is `storageDir`, if found. */
export function registryPid(storageDir: string): number | undefined {
  const config = join(dirname(storageDir), 'config.yml');
  try {
    const out = execFileSync('pgrep', ['-f', `^/usr/bin/docker-registry serve ${config}$`], { encoding: 'utf8' });
    return Number(out.trim().split('\n')[0]) || undefined;
  } catch {
    return undefined;
  }
}

/** User + system CPU seconds the process has used so far; 0 once it is gone. */
export function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ...": fields after the last ')' start at state; utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}
