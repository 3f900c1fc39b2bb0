// Owns what `npm start` does before the server runs (npm's `prestart`): build dist/ only when it is missing or
// older than the sources, and before such a build (up to half a minute) check the configuration, so a first
// start with a missing or wrong app.conf says so in a second instead of after the build. The check is the
// service's own (src/cli/cli-config.ts and src/config/), transpiled file by file without type-checking: no
// second copy of the rules to drift from the real ones.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'dist/bin/swr-harbor-sync.js');

/**
 * Newest modification time of the build's inputs: every file under src/, tsconfig.json, the bundler script, and
 * the installed packages (the bundle holds undici, commander, p-limit and minimatch: an npm ci that updates them
 * must rebuild it; npm rewrites node_modules/.package-lock.json at each install).
 */
function newestSource() {
  const inputs = [
    'tsconfig.json',
    'scripts/bundle.mjs',
    'package.json',
    'package-lock.json',
    'node_modules/.package-lock.json',
  ];
  let newest = Math.max(
    ...inputs.map((file) => (existsSync(join(root, file)) ? statSync(join(root, file)).mtimeMs : 0)),
  );
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  walk(join(root, 'src'));
  return newest;
}

function upToDate() {
  return existsSync(entry) && statSync(entry).mtimeMs >= newestSource();
}

/** Transpiles `from` and the project files it imports into `outDir` (mirroring src/), returning its output path. */
async function transpileGraph(from, outDir) {
  const { default: ts } = await import('typescript');
  const pending = [from];
  const done = new Set();
  while (pending.length > 0) {
    const file = pending.pop();
    if (done.has(file)) continue;
    done.add(file);
    const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    });
    const out = join(outDir, relative(root, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, outputText);
    for (const [, spec] of outputText.matchAll(/(?:from|import\()\s*'(\.{1,2}\/[^']+)\.js'/g))
      pending.push(join(dirname(file), `${spec}.ts`));
  }
  return join(outDir, relative(root, from)).replace(/\.ts$/, '.js');
}

/** The configuration as `serve` reads it; its problems printed the way `serve` prints them. True when valid. */
async function configurationIsValid() {
  // Inside the project, so that its node_modules (dotenv, undici) resolve and package.json's "type" applies.
  const outDir = join(root, 'dist/.prestart-check');
  let loadCliConfig;
  try {
    ({ loadCliConfig } = await import(
      pathToFileURL(await transpileGraph(join(root, 'src/cli/cli-config.ts'), outDir)).href
    ));
  } catch (error) {
    // The early check is a courtesy: if it cannot run, the server still checks the configuration after the build.
    process.stderr.write(`npm start: configuration not checked before the build (${error.message})\n`);
    return true;
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
  try {
    loadCliConfig();
    return true;
  } catch (error) {
    // As the command line prints it (src/cli/main.ts): one `error: ` line per problem.
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    return false;
  }
}

if (!upToDate()) {
  if (!(await configurationIsValid())) {
    process.stderr.write('npm start: not built and not started; fix app.conf and run npm start again\n');
    process.exit(2);
  }
  process.stdout.write('npm start: building dist/ first (first start, or the sources changed; up to half a minute)\n');
  // npm run build's two steps: tsc, then the bundle of its output (scripts/bundle.mjs).
  const steps = [
    ['tsc', [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')]],
    ['the bundler', [join(root, 'scripts/bundle.mjs')]],
  ];
  for (const [name, args] of steps) {
    const build = spawnSync(process.execPath, args, { stdio: 'inherit' });
    if (build.status !== 0) {
      // tsc writes its output even with type errors: keep the next start from taking that for a good build.
      if (existsSync(entry)) unlinkSync(entry);
      process.stderr.write(`npm start: the build failed (${name} exited ${build.status ?? build.signal}); see above\n`);
      process.exit(1);
    }
  }
}
