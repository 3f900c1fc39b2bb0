// Owns one measured copy: a fresh, empty destination registry, the tool's invocations run back
// to back (timed), then verification (untimed), then the destination is thrown away.
import { startRegistry } from '../tests/harness/registry.js';
import { startCountingProxy } from './counting-proxy.js';
import { measure } from './measure.js';
import { cpuSeconds as processCpu, registryPid } from './registry-cpu.js';
import type { ToolName } from './options.js';
import type { ExpectedProject } from './project.js';
import type { CopyPlan } from './tools.js';
import { verifyCopy } from './verify.js';

export interface CopyOutcome {
  wallMs: number;
  peakRss: number;
  problems: string[];
  /** Only when run through the counting proxy. */
  uploadedBytes?: number;
  /** The tool's user + system CPU seconds over its invocations (with GNU time). */
  cpuSeconds?: number;
  /** CPU seconds the destination and the `otherRegistries` used during the timed part. */
  registriesCpuSeconds?: number;
}

export type PlanFor = (tool: ToolName, destHost: string) => Promise<CopyPlan>;

async function runPlan(plan: CopyPlan, gnuTime: boolean): Promise<Omit<CopyOutcome, 'uploadedBytes'>> {
  let wallMs = 0;
  let peakRss = 0;
  let cpuSeconds: number | undefined;
  for (const inv of plan.invocations) {
    const m = await measure(inv.command, inv.args, gnuTime);
    wallMs += m.wallMs;
    peakRss = Math.max(peakRss, m.peakRss);
    if (m.cpuSeconds !== undefined) cpuSeconds = (cpuSeconds ?? 0) + m.cpuSeconds;
    if (m.exitCode !== 0) {
      return { wallMs, peakRss, cpuSeconds, problems: [`${plan.tool} exited with ${m.exitCode}:\n${m.output.trim()}`] };
    }
  }
  return { wallMs, peakRss, cpuSeconds, problems: [] };
}

export async function copyOnce(
  tool: ToolName,
  planFor: PlanFor,
  expected: ExpectedProject,
  gnuTime: boolean,
  countUploads = false,
  /** Storage directories of the other registries in the run (the source), whose CPU is counted too. */
  otherRegistries: string[] = [],
): Promise<CopyOutcome> {
  const dest = await startRegistry();
  const proxy = countUploads ? await startCountingProxy(dest.host) : undefined;
  try {
    const plan = await planFor(tool, proxy?.host ?? dest.host);
    const pids = [dest.storageDir, ...otherRegistries].map(registryPid);
    const registriesCpu = () => pids.reduce<number>((sum, pid) => sum + processCpu(pid), 0);
    const cpuBefore = registriesCpu();
    const outcome: CopyOutcome = await runPlan(plan, gnuTime);
    outcome.registriesCpuSeconds = registriesCpu() - cpuBefore;
    if (outcome.problems.length === 0) outcome.problems = await verifyCopy(dest, expected);
    if (proxy) outcome.uploadedBytes = proxy.uploadedBytes();
    return outcome;
  } finally {
    await proxy?.close();
    await dest.stop();
  }
}
