// Owns the benchmarks' handling of the service as a child process: waiting for /healthz, reading its jobs
// through the API, and stopping it (SIGTERM, then SIGKILL after 10 s).
import type { ChildProcess } from 'node:child_process';
import { testServiceConfig } from '../tests/harness/service.js';

export interface Job {
  id: string;
  state: string;
  spec: { kind: string; repository?: string; digest?: string; tags?: string[] };
  results: Array<{ status: string; destination: string; sourceDigest?: string }>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitHealthy(url: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`service exited with ${child.exitCode}: ${stderr()}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`service did not answer /healthz within 20 s: ${stderr()}`);
}

export async function listJobs(url: string, project = 'proj'): Promise<Job[]> {
  const res = await fetch(`${url}/api/v1/jobs?project=${project}&limit=1000`);
  if (!res.ok) throw new Error(`GET /api/v1/jobs: ${res.status}`);
  return ((await res.json()) as { jobs: Job[] }).jobs;
}

export function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
    }, 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** The environment a benchmark's service runs with (no app.conf): the tests' base configuration plus `extra`. */
export async function benchServiceEnv(
  harborHost: string,
  destinationHost: string,
  port: number,
  extra: Record<string, string>,
): Promise<NodeJS.ProcessEnv> {
  const base = await testServiceConfig(harborHost, destinationHost, extra.LogDir ?? 'logs', extra.DataDir ?? 'data');
  return { PATH: process.env.PATH, ...base, ReconcileInterval: '0', Port: String(port), ...extra };
}
