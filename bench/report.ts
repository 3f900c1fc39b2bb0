// Owns turning raw run records into medians, ratios and verdicts, and printing/writing them.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ToolName } from './options.js';
import type { Scenario } from './scenarios.js';

export interface RunRecord {
  tool: ToolName;
  /** Index of the ours/skopeo pair this run belongs to. */
  pair: number;
  wallMs: number;
  peakRss: number;
  /** The tool's user + system CPU seconds, and the two registries' over the same run (when measured). */
  cpuSeconds?: number;
  registriesCpuSeconds?: number;
  ok: boolean;
  problems: string[];
}

export interface ToolSummary {
  okRuns: number;
  failedRuns: number;
  medianWallMs?: number;
  mibPerSec?: number;
  maxPeakRss?: number;
}

export interface Verdict {
  what: string;
  target: string;
  value: string;
  /** undefined: could not be measured (tool missing or every run failed). */
  met?: boolean;
}

export interface ScenarioResult {
  id: string;
  title: string;
  uniqueBlobs: number;
  uniqueBlobBytes: number;
  runs: RunRecord[];
  tools: Partial<Record<ToolName, ToolSummary>>;
  /** Median over pairs where both succeeded of ours.wall / skopeo.wall. */
  medianWallRatio?: number;
  uploadedBytes: Partial<Record<ToolName, number>>;
  verdicts: Verdict[];
}

const MiB = 1024 * 1024;

export function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function summarise(runs: RunRecord[], tool: ToolName, uniqueBytes: number): ToolSummary | undefined {
  const mine = runs.filter((r) => r.tool === tool);
  if (mine.length === 0) return undefined;
  const ok = mine.filter((r) => r.ok);
  const medianWallMs = median(ok.map((r) => r.wallMs));
  return {
    okRuns: ok.length,
    failedRuns: mine.length - ok.length,
    medianWallMs,
    mibPerSec: medianWallMs ? uniqueBytes / MiB / (medianWallMs / 1000) : undefined,
    maxPeakRss: ok.length ? Math.max(...ok.map((r) => r.peakRss)) : undefined,
  };
}

function pairRatios(runs: RunRecord[]): number[] {
  const ratios: number[] = [];
  for (const pair of new Set(runs.map((r) => r.pair))) {
    const ours = runs.find((r) => r.pair === pair && r.tool === 'ours');
    const skopeo = runs.find((r) => r.pair === pair && r.tool === 'skopeo');
    if (ours?.ok && skopeo?.ok) ratios.push(ours.wallMs / skopeo.wallMs);
  }
  return ratios;
}

// RSS in MB (10^6, as the target is stated); data volumes in MiB, like the MiB/s column.
const mb = (bytes: number | undefined): string => (bytes === undefined ? '-' : `${(bytes / 1e6).toFixed(1)} MB`);
const mib = (bytes: number | undefined): string => (bytes === undefined ? '-' : `${(bytes / MiB).toFixed(1)} MiB`);
const secs = (ms: number | undefined): string => (ms === undefined ? '-' : `${(ms / 1000).toFixed(2)} s`);

export function evaluate(
  s: Scenario,
  base: Omit<ScenarioResult, 'tools' | 'medianWallRatio' | 'verdicts'>,
): ScenarioResult {
  const tools: ScenarioResult['tools'] = {};
  for (const tool of ['ours', 'skopeo'] as const) {
    const summary = summarise(base.runs, tool, base.uniqueBlobBytes);
    if (summary) tools[tool] = summary;
  }
  const medianWallRatio = median(pairRatios(base.runs));
  const verdicts: Verdict[] = [];
  const ours = tools.ours;
  verdicts.push({
    what: 'our copies complete and digest-exact',
    target: 'every run',
    value: ours ? `${ours.okRuns}/${ours.okRuns + ours.failedRuns} runs` : 'not run',
    met: ours ? ours.failedRuns === 0 && ours.okRuns > 0 : undefined,
  });
  if (s.targets.maxWallRatio !== undefined) {
    verdicts.push({
      what: 'median wall-time ratio ours/skopeo',
      target: `<= ${s.targets.maxWallRatio}`,
      value: medianWallRatio === undefined ? 'not measured' : medianWallRatio.toFixed(2),
      met:
        medianWallRatio === undefined ? undefined : medianWallRatio <= s.targets.maxWallRatio && ours?.failedRuns === 0,
    });
  }
  if (s.targets.maxOursPeakRss !== undefined) {
    verdicts.push({
      what: 'our peak RSS',
      target: `< ${mb(s.targets.maxOursPeakRss)}`,
      value: ours?.maxPeakRss ? mb(ours.maxPeakRss) : 'not measured',
      met: ours?.maxPeakRss ? ours.maxPeakRss < s.targets.maxOursPeakRss : undefined,
    });
  }
  const up = base.uploadedBytes.ours;
  verdicts.push({
    what: 'bytes uploaded by ours',
    target: `<= unique ${mib(base.uniqueBlobBytes)}`,
    value: up === undefined ? 'not measured' : mib(up),
    met: up === undefined ? undefined : up <= base.uniqueBlobBytes,
  });
  return { ...base, tools, medianWallRatio, verdicts };
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const line = (r: string[]): string =>
    r
      .map((cell, c) => cell.padEnd(widths[c]))
      .join('  ')
      .trimEnd();
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

export function render(results: ScenarioResult[]): string {
  const rows = [
    ['scenario', 'unique', 'tool', 'ok/runs', 'median wall', 'MiB/s', 'peak RSS', 'uploaded', 'ratio ours/skopeo'],
  ];
  for (const r of results) {
    for (const tool of ['ours', 'skopeo'] as const) {
      const t = r.tools[tool];
      const up = r.uploadedBytes[tool];
      rows.push([
        tool === 'ours' ? `${r.id}` : '',
        tool === 'ours' ? mib(r.uniqueBlobBytes) : '',
        tool,
        t ? `${t.okRuns}/${t.okRuns + t.failedRuns}` : 'not run',
        secs(t?.medianWallMs),
        t?.mibPerSec === undefined ? '-' : t.mibPerSec.toFixed(1),
        mb(t?.maxPeakRss),
        up === undefined ? '-' : mib(up),
        tool === 'ours' && r.medianWallRatio !== undefined ? r.medianWallRatio.toFixed(2) : '',
      ]);
    }
  }
  const verdictRows = [['scenario', 'check', 'target', 'value', 'verdict']];
  for (const r of results) {
    for (const v of r.verdicts) {
      verdictRows.push([
        r.id,
        v.what,
        v.target,
        v.value,
        v.met === undefined ? 'NOT MEASURED' : v.met ? 'met' : 'NOT MET',
      ]);
    }
  }
  return `${table(rows)}\n\n${table(verdictRows)}`;
}

export async function writeResults(path: string, payload: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, JSON.stringify(payload, null, 2) + '\n');
}

/**
 * Each tool's median CPU and the registries' over its runs, and the floor that sets on this machine: a run cannot
 * end before the tool's and the registries' CPU seconds are spread over the cores, (tool + registries) / cores.
 */
export function cpuFloorLine(id: string, runs: RunRecord[], cores: number): string {
  const parts: string[] = [];
  for (const tool of ['ours', 'skopeo'] as const) {
    const mine = runs.filter((r) => r.tool === tool && r.ok && r.cpuSeconds !== undefined);
    const own = median(mine.map((r) => r.cpuSeconds!));
    const registries = median(mine.map((r) => r.registriesCpuSeconds ?? 0));
    if (own === undefined || registries === undefined) continue;
    const floor = (own + registries) / cores;
    parts.push(
      `${tool} ${own.toFixed(2)} s + registries ${registries.toFixed(2)} s, floor ${floor.toFixed(2)} s on ${cores} cores`,
    );
  }
  return `[${id}] CPU medians: ${parts.length ? parts.join('; ') : 'not measured (needs GNU time)'}`;
}
