// Log formats: LogFormat=json writes one JSON object per line for log shippers, the text default stays
// readable; in both, every line written while a job runs carries that job's id.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { parseConfig } from '../../src/config/config.js';
import { startHarbor, type HarborStandIn } from '../harness/harbor/index.js';
import { pushImage } from '../harness/images.js';
import { startRegistry, type RunningRegistry } from '../harness/registry.js';
import { startServiceUnderTest, testServiceConfig, waitForJobs, type ServiceUnderTest } from '../harness/service.js';
import { postPushWebhook } from '../harness/webhook-post.js';

let harbor: HarborStandIn;
let dst: RunningRegistry;
const started: ServiceUnderTest[] = [];

beforeAll(async () => {
  [harbor, dst] = await Promise.all([startHarbor({ projects: [{ name: 'proj', public: false }] }), startRegistry()]);
});

afterAll(async () => {
  await Promise.all(started.map((s) => s.stop()));
  await Promise.all([harbor?.stop(), dst?.stop()]);
});

/** Pushes an image, posts its webhook to a fresh service and returns the service and the finished job's id. */
async function syncOneImage(
  extra: Record<string, string>,
  repo: string,
): Promise<{ sut: ServiceUnderTest; jobId: string }> {
  const sut = await startServiceUnderTest(harbor.host, dst.host, extra);
  started.push(sut);
  const image = await pushImage(harbor.access, `proj/${repo}`, 'v1', {
    format: 'docker',
    layers: [{ seed: repo, size: 10_000 }],
  });
  const res = await postPushWebhook(harbor, sut.url, {
    project: 'proj',
    repository: repo,
    digest: image.digest,
    tag: 'v1',
  });
  expect(res.status).toBe(200);
  const jobs = await waitForJobs(sut.url, 'proj', (all) =>
    all.some((j) => j.spec.kind === 'image' && j.spec.repository === repo && j.state === 'succeeded'),
  );
  return { sut, jobId: jobs.find((j) => j.spec.kind === 'image' && j.spec.repository === repo)!.id };
}

async function lines(dir: string, file: string): Promise<string[]> {
  return (await readFile(join(dir, file), 'utf8')).split('\n').filter((l) => l.length > 0);
}

test("LogFormat=json: every line of every file parses, and a job's lines carry its id as a field", async () => {
  const { sut, jobId } = await syncOneImage({ LogFormat: 'json' }, 'json-log/app');
  // Closed (logs flushed) but not removed: afterAll's stop removes the directories.
  await sut.running.close(0);
  const files = ['running.log', 'proj-running.log', 'proj-success.log'];
  const parsed = new Map<string, Array<Record<string, unknown>>>();
  for (const file of files) {
    const all = await lines(sut.logDir, file);
    expect(all.length).toBeGreaterThan(0);
    parsed.set(
      file,
      all.map((l) => JSON.parse(l) as Record<string, unknown>),
    );
    for (const entry of parsed.get(file)!) {
      expect(entry).toEqual(
        expect.objectContaining({
          level: expect.any(String),
          message: expect.any(String),
          timestamp: expect.any(String),
        }),
      );
    }
  }
  // The job's own lines in the service log: started and succeeded.
  const ofJob = parsed
    .get('running.log')!
    .filter((e) => e.jobId === jobId)
    .map((e) => e.message as string);
  expect(ofJob).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/^started: image proj\/json-log\/app@sha256:/),
      'succeeded: 1 image(s)',
    ]),
  );
  // Every line in the project's logs was written for this one job: each carries its id.
  for (const file of ['proj-running.log', 'proj-success.log']) {
    for (const entry of parsed.get(file)!) expect(entry.jobId).toBe(jobId);
  }
  expect(parsed.get('proj-success.log')!.map((e) => e.message)).toEqual([expect.stringContaining('json-log/app:v1')]);
});

test("the text default: readable lines, a job's lines start with [job <id>]", async () => {
  const { sut, jobId } = await syncOneImage({}, 'text-log/app');
  // Closed (logs flushed) but not removed: afterAll's stop removes the directories.
  await sut.running.close(0);
  const running = await lines(sut.logDir, 'running.log');
  expect(() => JSON.parse(running[0])).toThrow();
  expect(running).toEqual(
    expect.arrayContaining([
      expect.stringMatching(new RegExp(`^\\S+ INFO \\[job ${jobId}\\] started: image proj/text-log/app@sha256:`)),
    ]),
  );
  const project = await lines(sut.logDir, 'proj-running.log');
  const mine = project.filter((l) => l.includes('text-log/app'));
  expect(mine.length).toBeGreaterThanOrEqual(2);
  for (const line of mine) expect(line).toMatch(new RegExp(`^\\S+ (INFO|WARN|ERROR) \\[job ${jobId}\\] `));
});

test('LogFormat takes text or json only, and says so', async () => {
  const base = await testServiceConfig('harbor.local', 'dst.local', '/tmp/l', '/tmp/d');
  expect(() => parseConfig({ ...base, LogFormat: 'xml' })).toThrow(/LogFormat must be one of text, json, got "xml"/);
  expect(parseConfig({ ...base, LogFormat: 'JSON' }).logFormat).toBe('json');
  expect(parseConfig(base).logFormat).toBe('text');
});
