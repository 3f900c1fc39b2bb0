// Owns one measured copy: a fresh, empty destination registry, the tool's invocations run back
// to back (timed), then verification (untimed), then the destination is thrown away.
import { startRegistry } from '../tests/harness/registry.js';
import { startCountingProxy } from './counting-proxy.js';
import { measure } from './measure.js';
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
}

export type PlanFor = (tool: ToolName, destHost: string) => Promise<CopyPlan>;

async function runPlan(plan: CopyPlan, gnuTime: boolean): Promise<Omit<CopyOutcome, 'uploadedBytes'>> {
  let wallMs = 0;
  let peakRss = 0;
  for (const inv of plan.invocations) {
    const m = await measure(inv.command, inv.args, gnuTime);
    wallMs += m.wallMs;
    peakRss = Math.max(peakRss, m.peakRss);
    if (m.exitCode !== 0) {
      return { wallMs, peakRss, problems: [`${plan.tool} exited with ${m.exitCode}:\n${m.output.trim()}`] };
    }
  }
  return { wallMs, peakRss, problems: [] };
}

export async function copyOnce(
  tool: ToolName,
  planFor: PlanFor,
  expected: ExpectedProject,
  gnuTime: boolean,
  countUploads = false,
): Promise<CopyOutcome> {
  const dest = await startRegistry();
  const proxy = countUploads ? await startCountingProxy(dest.host) : undefined;
  try {
    const plan = await planFor(tool, proxy?.host ?? dest.host);
    const outcome: CopyOutcome = await runPlan(plan, gnuTime);
    if (outcome.problems.length === 0) outcome.problems = await verifyCopy(dest, expected);
    if (proxy) outcome.uploadedBytes = proxy.uploadedBytes();
    return outcome;
  } finally {
    await proxy?.close();
    await dest.stop();
  }
}
