// Owns the command line's bundle: dist/bin/swr-harbor-sync.js, the entry point users, the image, the tests and
// the benchmarks run. It is built from tsc's output (dist/src/), so the type-checked JavaScript is what runs.
// Why a bundle: Node loads each ES module file on its own (resolve, read, parse, link). A copy loads about 150
// of our files and undici's, about 50 ms of a short copy's start on one core; one file per command costs 20.
// Only what a copy loads is bundled (our code, undici, p-limit, commander, minimatch). The rest stays in
// node_modules: better-sqlite3 is native, BullMQ reads its Lua scripts from its own folder, and the service's
// start-up time does not matter. Each command's lazy import (src/cli/main.ts) becomes its own chunk, so a copy
// still never loads Express or SQLite.
import { build } from 'esbuild';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist/bin');
const bundled = new Set(['undici', 'p-limit', 'commander', 'minimatch']);
const { dependencies } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

// Hashed chunk names change with their content: a stale chunk would otherwise stay behind.
rmSync(outdir, { recursive: true, force: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: { 'swr-harbor-sync': 'dist/src/cli/main.js' },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: Object.keys(dependencies).filter((name) => !bundled.has(name)),
  // undici is CommonJS and requires Node's modules; an ES module has no require() of its own.
  banner: {
    js: "import { createRequire as bundleRequire } from 'node:module';\nconst require = bundleRequire(import.meta.url);",
  },
  keepNames: true,
  sourcemap: 'linked',
  metafile: true,
  logLevel: 'warning',
});
// Which files each chunk holds: tests/unit/cli-bundle.test.ts reads it. Beside dist/bin/, which the image copies whole.
writeFileSync(join(root, 'dist/bin-meta.json'), JSON.stringify(result.metafile));
