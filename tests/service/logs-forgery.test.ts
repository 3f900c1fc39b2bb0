// A peer cannot forge log lines: a destination registry whose error message carries CR/LF and a whole fake
// log line, through a real sync (Harbor stand-in, a real registry behind the fault proxy). Every message
// stays one line in <project>-running.log, in text and in JSON, is capped in length, and the job's stored
// error is the same escaped, capped text.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import type { Job } from '../../src/jobs/types.js';
import { startFaultProxy, type FaultProxy } from '../harness/fault-proxy.js';
import { startHarbor, type HarborStandIn } from '../harness/harbor/index.js';
import { pushImage } from '../harness/images.js';
import { startRegistry, type RunningRegistry } from '../harness/registry.js';
import { startServiceUnderTest, waitForJobs, type ServiceUnderTest } from '../harness/service.js';

const FORGED = '2026-11-30T05:00:00.000Z INFO forged: proj/app:v1 synced';
/** What the destination says when it refuses the manifest: a fake line after CR/LF, an ESC, and 10,000 more characters. */
const MESSAGE = `manifest refused\r\n${FORGED}\n\u001b[2Jcleared ${'x'.repeat(10_000)}`;
const MAX_LINE = 4000;
/** A line's own parts besides the message: time, level, job id, JSON punctuation. */
const LINE_OVERHEAD = 300;

let harbor: HarborStandIn;
let dst: RunningRegistry;
let proxy: FaultProxy;
let text: ServiceUnderTest;
let json: ServiceUnderTest;
let digest: string;

async function failedJob(sut: ServiceUnderTest): Promise<Job> {
  const payload = harbor.webhookPayload('default', { project: 'proj', repository: 'app', digest, tag: 'v1' });
  const res = await fetch(`${sut.url}/service/notifications`, {
    method: 'POST',
    headers: { 'content-type': payload.contentType },
    body: payload.body,
  });
  expect(res.status).toBe(200);
  const jobs = await waitForJobs(sut.url, 'proj', (all) => all.some((j) => j.state === 'failed'));
  return jobs.find((j) => j.state === 'failed')!;
}

async function logLines(sut: ServiceUnderTest): Promise<string[]> {
  // The service is stopped first, so everything it wrote is on disk.
  return (await readFile(join(sut.logDir, 'proj-running.log'), 'utf8')).split('\n').filter((l) => l.length > 0);
}

beforeAll(async () => {
  [harbor, dst] = await Promise.all([startHarbor({ projects: [{ name: 'proj', public: false }] }), startRegistry()]);
  proxy = await startFaultProxy(dst.url);
  proxy.inject({
    method: 'PUT',
    path: /^\/v2\/mirror\/app\/manifests\//,
    times: Infinity,
    fault: { status: 400, body: JSON.stringify({ errors: [{ code: 'MANIFEST_INVALID', message: MESSAGE }] }) },
  });
  digest = (
    await pushImage(harbor.access, 'proj/app', 'v1', { format: 'docker', layers: [{ seed: 'forgery', size: 10_000 }] })
  ).digest;
  [text, json] = await Promise.all([
    startServiceUnderTest(harbor.host, proxy.host, { JobRetries: '0' }),
    startServiceUnderTest(harbor.host, proxy.host, { JobRetries: '0', LogFormat: 'json' }),
  ]);
}, 120_000);

afterAll(async () => {
  await Promise.all([text?.stop(), json?.stop()]);
  await Promise.all([proxy?.stop(), harbor?.stop(), dst?.stop()]);
});

test("text: the registry's CR/LF and fake line stay inside one capped line; the stored job error is escaped and capped", async () => {
  const job = await failedJob(text);
  await text.running.close(0);
  const lines = await logLines(text);
  // Every line is one the service wrote: its timestamp, a level, the job's id.
  for (const line of lines)
    expect(line).toMatch(
      new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z (INFO|WARN|ERROR) \\[job ${job.id}\\] `),
    );
  expect(lines.filter((l) => l.startsWith(FORGED))).toEqual([]);
  const carrying = lines.filter((l) => l.includes('forged'));
  expect(carrying.length).toBeGreaterThanOrEqual(1);
  for (const line of carrying) {
    expect(line).toContain(`manifest refused\\r\\n${FORGED}\\n\\u001b[2Jcleared xxx`);
    expect(line).not.toContain('\u001b');
    // Cut short: by the OCI client at 300 characters of the peer's words, else by the log's own 4,000 cap.
    expect(line).toMatch(/…|\[cut: /);
    expect(line.length).toBeLessThanOrEqual(MAX_LINE + LINE_OVERHEAD);
  }
  expect(job.error).toContain(`manifest refused\\r\\n${FORGED}`);
  expect(job.error).not.toMatch(/[\r\n\u001b]/);
  expect(job.error!.length).toBeLessThanOrEqual(MAX_LINE + 100);
  for (const result of job.results) expect(result.reason ?? '').not.toMatch(/[\r\n\u001b]/);
});

test('JSON: one object per line, the message escaped and capped the same way', async () => {
  const job = await failedJob(json);
  await json.running.close(0);
  const lines = await logLines(json);
  const objects = lines.map((l) => JSON.parse(l) as { message: string; level: string; jobId?: string });
  expect(objects.length).toBe(lines.length);
  for (const o of objects) expect(o.jobId).toBe(job.id);
  expect(objects.filter((o) => o.message.startsWith(FORGED))).toEqual([]);
  const carrying = objects.filter((o) => o.message.includes('forged'));
  expect(carrying.length).toBeGreaterThanOrEqual(1);
  for (const o of carrying) {
    expect(o.message).toContain(`manifest refused\\r\\n${FORGED}\\n\\u001b[2J`);
    expect(o.message).not.toMatch(/[\r\n\u001b]/);
    expect(o.message.length).toBeLessThanOrEqual(MAX_LINE + 100);
  }
});
