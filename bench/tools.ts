// Owns the exact command lines of the two copiers: our CLI and the reference, skopeo sync.
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ToolName } from './options.js';

export interface Invocation {
  command: string;
  args: string[];
}

/** A copy of a whole project: one or more invocations run back to back. */
export interface CopyPlan {
  tool: ToolName;
  invocations: Invocation[];
}

/** The command line as users run it, bundled by `npm run build`: dist-bench/bench/tools.js -> dist/bin/. */
export function ourCliPath(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'bin', 'swr-harbor-sync.js');
}

export function ourCliAvailable(): boolean {
  return existsSync(ourCliPath());
}

export function oursPlan(srcHost: string, dstHost: string, prefix: string): CopyPlan {
  return {
    tool: 'ours',
    invocations: [
      {
        command: process.execPath,
        args: [
          ourCliPath(),
          'copy-prefix',
          `${srcHost}/${prefix}`,
          `${dstHost}/${prefix}`,
          '--insecure-src',
          '--insecure-dst',
          '--all',
        ],
      },
    ],
  };
}

/**
 * skopeo 1.9.3 `sync --src yaml` names each destination repository DEST/<last path component>
 * (proj/sub/app -> DEST/app), and `--scoped` cannot be used with a host:port source (it builds
 * DEST/127.0.0.1:PORT/..., an invalid reference). So repositories are grouped by parent path and
 * each group is synced into DEST/<parent>, which keeps names identical to the source.
 */
export async function skopeoPlan(
  srcHost: string,
  dstHost: string,
  repos: string[],
  workDir: string,
): Promise<CopyPlan> {
  const groups = new Map<string, string[]>();
  for (const repo of repos) {
    const parent = posix.dirname(repo);
    groups.set(parent, [...(groups.get(parent) ?? []), repo]);
  }
  const invocations: Invocation[] = [];
  let n = 0;
  for (const [parent, members] of groups) {
    const yamlPath = join(workDir, `skopeo-sync-${n++}.yaml`);
    // An empty tag list means "every tag". JSON is valid YAML and needs no quoting rules.
    const images = Object.fromEntries(members.map((repo) => [repo, [] as string[]]));
    await writeFile(yamlPath, JSON.stringify({ [srcHost]: { 'tls-verify': false, images } }, null, 2));
    const dest = parent === '.' ? dstHost : `${dstHost}/${parent}`;
    invocations.push({
      command: 'skopeo',
      args: [
        'sync',
        '--all',
        '--preserve-digests',
        '--src',
        'yaml',
        '--dest',
        'docker',
        '--src-tls-verify=false',
        '--dest-tls-verify=false',
        yamlPath,
        dest,
      ],
    });
  }
  return { tool: 'skopeo', invocations };
}

export function describePlan(plan: CopyPlan): string {
  return plan.invocations
    .map((i) => [i.command === process.execPath ? 'node' : i.command, ...i.args].join(' '))
    .join(' && ');
}
