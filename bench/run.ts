// Owns the benchmark's main flow: source registry and synthetic projects, alternating timed
// copies by our CLI and skopeo into fresh destinations, the upload count, and the report.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRegistry } from '../tests/harness/registry.js';
import { copyOnce, type PlanFor } from './copy-run.js';
import { ensureGnuTime } from './measure.js';
import { parseOptions, type ToolName } from './options.js';
import { buildProject } from './project.js';
import { cpuFloorLine, evaluate, render, writeResults, type RunRecord, type ScenarioResult } from './report.js';
import { scenario } from './scenarios.js';
import { chooseScratchDir } from './scratch.js';
import { describePlan, ourCliAvailable, ourCliPath, oursPlan, skopeoPlan } from './tools.js';

const MiB = 1024 * 1024;
const here = dirname(fileURLToPath(import.meta.url));
// dist-bench/bench/run.js -> <repo>/bench/results/latest.json
const DEFAULT_RESULTS = join(here, '..', '..', 'bench', 'results', 'latest.json');

function skopeoVersion(): string | undefined {
  const r = spawnSync('skopeo', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function availableTools(wanted: ToolName[]): ToolName[] {
  return wanted.filter((tool) => {
    if (tool === 'ours' && !ourCliAvailable()) {
      console.warn(`!! our CLI is not built (${ourCliPath()} missing): our tool is NOT measured`);
      return false;
    }
    if (tool === 'skopeo' && !skopeoVersion()) {
      console.warn('!! skopeo is not installed (apt-get install skopeo): skopeo is NOT measured');
      return false;
    }
    return true;
  });
}

async function main(): Promise<number> {
  const opts = parseOptions(process.argv.slice(2), process.env);
  const scratch = chooseScratchDir(process.env);
  const gnuTime = ensureGnuTime();
  const tools = availableTools(opts.tools);
  const workDir = await mkdtemp(join(tmpdir(), 'swr-bench-'));
  const source = await startRegistry();
  const results: ScenarioResult[] = [];
  console.log(
    `bench: scenarios ${opts.scenarios.join(',')}, ${opts.runs} runs, scale ${opts.scale}, tools ${tools.join(',') || 'none'}, RSS via ${gnuTime ? 'GNU time' : '/proc VmHWM sampling'}`,
  );
  console.log(`bench: ${scratch}`);
  console.log(
    process.env.BENCH_INHERIT_ENV === '1'
      ? "bench: tools run with this shell's environment (BENCH_INHERIT_ENV=1)"
      : "bench: tools run with PATH, HOME, TMPDIR and LANG only (BENCH_INHERIT_ENV=1 passes this shell's environment)",
  );
  try {
    for (const id of opts.scenarios) {
      const s = scenario(id, opts.scale);
      const t0 = Date.now();
      const expected = await buildProject(source, s);
      const uniqueMiB = expected.uniqueBlobBytes / MiB;
      console.log(
        `\n[${id}] ${s.title}: ${expected.tags.size} repos, ${expected.uniqueBlobs} unique blobs, ${uniqueMiB.toFixed(1)} MiB (built in ${((Date.now() - t0) / 1000).toFixed(1)} s)`,
      );
      const repos = [...expected.tags.keys()];
      const planFor: PlanFor = (tool, destHost) =>
        tool === 'ours'
          ? Promise.resolve(oursPlan(source.host, destHost, s.prefix))
          : skopeoPlan(source.host, destHost, repos, workDir);
      for (const tool of tools) console.log(`[${id}] ${tool}: ${describePlan(await planFor(tool, 'DEST'))}`);

      const runs: RunRecord[] = [];
      for (let pair = 0; pair < opts.runs; pair++) {
        // ABBA order, so neither tool always gets the warmer page cache.
        const order = pair % 2 === 0 ? tools : [...tools].reverse();
        for (const tool of order) {
          const out = await copyOnce(tool, planFor, expected, gnuTime, false, [source.storageDir]);
          const ok = out.problems.length === 0;
          const { cpuSeconds, registriesCpuSeconds } = out;
          runs.push({
            tool,
            pair,
            wallMs: out.wallMs,
            peakRss: out.peakRss,
            cpuSeconds,
            registriesCpuSeconds,
            ok,
            problems: out.problems,
          });
          const rate = uniqueMiB / (out.wallMs / 1000);
          const cpu =
            cpuSeconds === undefined
              ? ''
              : `  CPU ${cpuSeconds.toFixed(2)} s, registries ${(registriesCpuSeconds ?? 0).toFixed(2)} s`;
          console.log(
            `[${id}] run ${pair + 1}/${opts.runs} ${tool.padEnd(6)} ${(out.wallMs / 1000).toFixed(2)} s  ${rate.toFixed(1)} MiB/s  RSS ${(out.peakRss / 1e6).toFixed(1)} MB${cpu}  ${ok ? 'verified' : 'FAILED'}`,
          );
          if (!ok) console.log(out.problems.slice(0, 10).join('\n'));
        }
      }

      console.log(cpuFloorLine(id, runs, cpus().length));

      const uploadedBytes: ScenarioResult['uploadedBytes'] = {};
      if (!opts.skipUploadCount) {
        for (const tool of tools) {
          const out = await copyOnce(tool, planFor, expected, gnuTime, true);
          uploadedBytes[tool] = out.uploadedBytes;
          console.log(
            `[${id}] upload count ${tool}: ${((out.uploadedBytes ?? 0) / MiB).toFixed(1)} MiB uploaded of ${uniqueMiB.toFixed(1)} MiB unique${out.problems.length ? ' (copy FAILED verification)' : ''}`,
          );
        }
      }
      results.push(
        evaluate(s, {
          id,
          title: s.title,
          uniqueBlobs: expected.uniqueBlobs,
          uniqueBlobBytes: expected.uniqueBlobBytes,
          runs,
          uploadedBytes,
        }),
      );
    }
  } finally {
    await source.stop();
    await rm(workDir, { recursive: true, force: true });
  }

  console.log(`\n${render(results)}`);
  const resultsPath = opts.resultsPath ?? DEFAULT_RESULTS;
  await writeResults(resultsPath, {
    finishedAt: new Date().toISOString(),
    options: opts,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version, skopeo: skopeoVersion() },
    storage: scratch,
    environment: process.env.BENCH_INHERIT_ENV === '1' ? 'inherited' : 'PATH, HOME, TMPDIR, LANG',
    toolsMeasured: tools,
    scenarios: results,
  });
  console.log(`\nresults written to ${resultsPath}`);
  const missed = results.some((r) => r.verdicts.some((v) => v.met !== true));
  return missed ? 1 : 0;
}

// The harness unref()s registry children, so awaiting a registry's stop() alone would let the
// event loop drain and end the process mid-run; this timer holds it open until main settles.
setInterval(() => undefined, 1 << 30);

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(2);
  },
);
