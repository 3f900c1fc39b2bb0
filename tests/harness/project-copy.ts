// Owns copies of this repository in temp folders, for tests that use it the way a user does (npm ci, npm start):
// the files git tracks, as they are in the working tree, so uncommitted changes are what gets tested (in CI, a
// clean clone, that is HEAD). Optionally with the checkout's node_modules linked in and its dist/ copied.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, cp, mkdir, mkdtemp, rm, symlink, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ProjectCopy {
  dir: string;
  remove(): Promise<void>;
}

/** The tracked files' paths; fails (never skips) when this is not a git checkout. */
function trackedFiles(): string[] {
  let listing: string;
  try {
    listing = execFileSync('git', ['ls-files', '-z', '--cached'], { cwd: REPO_ROOT, encoding: 'utf8' });
  } catch (error) {
    throw new Error(
      `this test copies the repository's tracked files and needs a git checkout with git installed: ${(error as Error).message}`,
    );
  }
  // A file deleted in the working tree but not yet in the index is gone for the user too.
  return listing.split('\0').filter((path) => path && existsSync(join(REPO_ROOT, path)));
}

export async function copyProject(
  options: { linkNodeModules?: boolean; copyDist?: boolean } = {},
): Promise<ProjectCopy> {
  const dir = await mkdtemp(join(tmpdir(), 'swr-harbor-sync-project-'));
  try {
    for (const path of trackedFiles()) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await copyFile(join(REPO_ROOT, path), join(dir, path));
    }
    if (options.linkNodeModules) await symlink(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    if (options.copyDist) {
      const entry = join(REPO_ROOT, 'dist/bin/swr-harbor-sync.js');
      if (!existsSync(entry)) throw new Error(`${entry} is missing: build first (npm run build)`);
      for (const part of ['dist/src', 'dist/bin'])
        await cp(join(REPO_ROOT, part), join(dir, part), { recursive: true });
      // Copied after the sources, so at least as new as they are: npm start takes dist/ as built.
      const now = new Date();
      await utimes(join(dir, 'dist/bin/swr-harbor-sync.js'), now, now);
    }
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}
