// GET /metrics and GET /readyz of the service end to end: a real image pushed to the Harbor stand-in and
// synced by webhook into a real destination registry, then the exact counters that must follow; the same
// image again (skipped, nothing uploaded); readiness with everything up, with the destination down, and with
// a job store that cannot be written, each also in the readiness gauges; both endpoints open when an ApiToken guards the API.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { Job } from '../../src/jobs/types.js';
import type { SqliteQueue } from '../../src/sqlite/queue.js';
import { startHarbor, type HarborStandIn } from '../harness/harbor/index.js';
import { assertImageComplete, pushImage, type PushedImage } from '../harness/images.js';
import { startRegistry, type RunningRegistry } from '../harness/registry.js';
import { startServiceUnderTest, waitForJobs, type ServiceUnderTest } from '../harness/service.js';
import { until } from '../harness/until.js';

let harbor: HarborStandIn;
let dst: RunningRegistry;
let sut: ServiceUnderTest;
let image: PushedImage;

beforeAll(async () => {
  [harbor, dst] = await Promise.all([startHarbor({ projects: [{ name: 'proj', public: false }] }), startRegistry()]);
  sut = await startServiceUnderTest(harbor.host, dst.host);
});

afterAll(async () => {
  await sut?.stop();
  await Promise.all([harbor?.stop(), dst?.stop()]);
});

// ---------------------------------------------------------------------------------------------------------
// Helpers

type Sample = { name: string; labels: Record<string, string>; value: number };

async function scrape(): Promise<Sample[]> {
  const res = await fetch(`${sut.url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const samples: Sample[] = [];
  for (const line of (await res.text()).split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key] = value!;
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

/** The value of the one series with exactly these labels; undefined when there is no such series. */
function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter((s) => s.name === name && sameLabels(s.labels, labels));
  if (found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} matches ${found.length} series`);
  return found[0]?.value;
}

/** The sum over every series of `name` whose labels include these. */
function total(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

function sameLabels(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}

async function postWebhook(body: string, contentType = 'application/json'): Promise<number> {
  const res = await fetch(`${sut.url}/service/notifications`, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body,
  });
  await res.body?.cancel();
  return res.status;
}

type Readiness = {
  status: string;
  failed?: string[];
  checks: Record<string, { ok: boolean; message: string; action?: string }>;
  error?: { code: string; message: string };
};

async function readyz(): Promise<{ status: number; body: Readiness }> {
  const res = await fetch(`${sut.url}/readyz`);
  return { status: res.status, body: (await res.json()) as Readiness };
}

async function waitForReadyz(status: number, timeoutMs: number): Promise<Readiness> {
  let last = await readyz();
  await until(
    `readyz to answer ${status}`,
    async () => (last.status === status || (last = await readyz()).status === status ? true : undefined),
    timeoutMs,
    250,
  ).catch(() => undefined);
  expect({ status: last.status, body: last.body }).toEqual({ status, body: expect.anything() });
  return last.body;
}

async function waitForJob(id: string): Promise<Job> {
  let job: Job | undefined;
  return until(`job ${id} to settle`, async () => {
    job = (await (await fetch(`${sut.url}/api/v1/jobs/${id}`)).json()) as Job;
    return job.state !== 'queued' && job.state !== 'running' ? job : undefined;
  }).catch((error: Error) => {
    throw /^timed out waiting/.test(error.message)
      ? new Error(`job ${id} did not settle: ${JSON.stringify(job)}`)
      : error;
  });
}

const blobsOf = (pushed: PushedImage) => [pushed.config, ...pushed.layers];

// ---------------------------------------------------------------------------------------------------------

describe('GET /metrics', () => {
  test('a webhook-synced image gives exact image, blob, byte, webhook and duration counts, and registry requests by host', async () => {
    image = await pushImage(harbor.access, 'proj/metrics/app', 'v1', {
      format: 'oci',
      layers: [
        { seed: 'metrics-1', size: 40_000 },
        { seed: 'metrics-2', size: 25_000 },
      ],
    });
    const before = await scrape();
    // Known outcomes are there at 0 before anything happens, so that rate() sees the first one.
    expect(value(before, 'swr_harbor_sync_images_total', { outcome: 'synced' })).toBe(0);
    expect(value(before, 'swr_harbor_sync_blobs_total', { action: 'uploaded' })).toBe(0);

    const push = harbor.webhookPayload('default', {
      project: 'proj',
      repository: 'metrics/app',
      digest: image.digest,
      tag: 'v1',
    });
    expect(await postWebhook(push.body, push.contentType)).toBe(200);
    expect(await postWebhook('{"type": "PUSH_ARTIFACT",')).toBe(400);
    expect(
      await postWebhook(await readFile(new URL('../fixtures/harbor-pull-default.json', import.meta.url), 'utf8')),
    ).toBe(200);
    await waitForJobs(sut.url, 'proj', (all) =>
      all.some((j) => j.spec.kind === 'image' && j.spec.repository === 'metrics/app' && j.state === 'succeeded'),
    );
    await assertImageComplete(dst, 'mirror/metrics/app', 'v1');

    const m = await scrape();
    const blobs = blobsOf(image);
    expect(value(m, 'swr_harbor_sync_images_total', { outcome: 'synced' })).toBe(1);
    expect(value(m, 'swr_harbor_sync_images_total', { outcome: 'skipped' })).toBe(0);
    expect(value(m, 'swr_harbor_sync_images_total', { outcome: 'failed' })).toBe(0);
    expect(value(m, 'swr_harbor_sync_images_converted_total')).toBe(0);
    expect(value(m, 'swr_harbor_sync_blobs_total', { action: 'uploaded' })).toBe(blobs.length);
    expect(value(m, 'swr_harbor_sync_blobs_total', { action: 'mounted' })).toBe(0);
    expect(value(m, 'swr_harbor_sync_blobs_total', { action: 'skipped' })).toBe(0);
    expect(value(m, 'swr_harbor_sync_copied_bytes_total')).toBe(blobs.reduce((sum, b) => sum + b.size, 0));

    expect(value(m, 'swr_harbor_sync_webhook_events_total', { kind: 'default', outcome: 'accepted' })).toBe(1);
    expect(value(m, 'swr_harbor_sync_webhook_events_total', { kind: 'unknown', outcome: 'rejected' })).toBe(1);
    expect(value(m, 'swr_harbor_sync_webhook_events_total', { kind: 'default', outcome: 'ignored' })).toBe(1);
    expect(total(m, 'swr_harbor_sync_webhook_events_total')).toBe(3);

    // Every blob and the manifest were PUT to the destination (201); the source was read with GETs (200).
    expect(
      value(m, 'swr_harbor_sync_registry_requests_total', { registry: dst.host, method: 'PUT', status: '201' }),
    ).toBeGreaterThanOrEqual(blobs.length + 1);
    expect(
      value(m, 'swr_harbor_sync_registry_requests_total', { registry: harbor.host, method: 'GET', status: '200' }),
    ).toBeGreaterThan(0);
    expect(total(m, 'swr_harbor_sync_registry_requests_total', { registry: harbor.host, method: 'PUT' })).toBe(0);
    expect(total(m, 'swr_harbor_sync_registry_retries_total')).toBe(0);

    expect(value(m, 'swr_harbor_sync_image_copy_duration_seconds_count', { outcome: 'synced' })).toBe(1);
    expect(value(m, 'swr_harbor_sync_image_copy_duration_seconds_bucket', { outcome: 'synced', le: '+Inf' })).toBe(1);
    expect(value(m, 'swr_harbor_sync_job_duration_seconds_count', { kind: 'image', outcome: 'succeeded' })).toBe(1);

    expect(value(m, 'swr_harbor_sync_jobs', { state: 'succeeded' })).toBe(1);
    expect(value(m, 'swr_harbor_sync_jobs', { state: 'queued' })).toBe(0);
    expect(value(m, 'swr_harbor_sync_queue_depth')).toBe(0);
    expect(value(m, 'swr_harbor_sync_project_images_total', { project: 'proj', outcome: 'synced' })).toBe(1);
    expect(total(m, 'swr_harbor_sync_project_images_total')).toBe(1);
    // One instance on SQLite: no job lock to hold or renew.
    expect(value(m, 'swr_harbor_sync_replicas')).toBe(1);
    expect(value(m, 'swr_harbor_sync_job_locks_held')).toBe(0);
    expect(value(m, 'swr_harbor_sync_job_lock_renewals_total')).toBe(0);
    expect(value(m, 'swr_harbor_sync_job_lock_renewal_failures_total')).toBe(0);
    expect(value(m, 'swr_harbor_sync_ready')).toBe(1);
    for (const check of ['store', 'config', 'harbor', 'destination'])
      expect({ check, value: value(m, 'swr_harbor_sync_readiness_check', { check }) }).toEqual({ check, value: 1 });
    // prom-client's default process metrics are in the same registry.
    expect(value(m, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(value(m, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
  });

  test('the same image again counts one skipped image and uploads nothing', async () => {
    const before = await scrape();
    const res = await fetch(`${sut.url}/api/v1/sync`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ project: 'proj', repositories: ['metrics/app'], tags: ['v1'] }),
    });
    expect(res.status).toBe(202);
    const job = await waitForJob(((await res.json()) as { jobId: string }).jobId);
    expect(job.state).toBe('succeeded');
    expect(job.results).toEqual([expect.objectContaining({ status: 'skipped' })]);

    const m = await scrape();
    const blobs = blobsOf(image);
    expect(value(m, 'swr_harbor_sync_images_total', { outcome: 'skipped' })).toBe(
      value(before, 'swr_harbor_sync_images_total', { outcome: 'skipped' })! + 1,
    );
    expect(value(m, 'swr_harbor_sync_images_total', { outcome: 'synced' })).toBe(1);
    expect(value(m, 'swr_harbor_sync_blobs_total', { action: 'uploaded' })).toBe(blobs.length);
    expect(value(m, 'swr_harbor_sync_copied_bytes_total')).toBe(blobs.reduce((sum, b) => sum + b.size, 0));
    expect(total(m, 'swr_harbor_sync_registry_requests_total', { registry: dst.host, method: 'PUT' })).toBe(
      total(before, 'swr_harbor_sync_registry_requests_total', { registry: dst.host, method: 'PUT' }),
    );
    expect(value(m, 'swr_harbor_sync_image_copy_duration_seconds_count', { outcome: 'skipped' })).toBe(1);
    expect(value(m, 'swr_harbor_sync_job_duration_seconds_count', { kind: 'project', outcome: 'succeeded' })).toBe(1);
    expect(value(m, 'swr_harbor_sync_project_images_total', { project: 'proj', outcome: 'skipped' })).toBe(1);
    expect(value(m, 'swr_harbor_sync_project_images_total', { project: 'proj', outcome: 'synced' })).toBe(1);
  });
});

describe('GET /readyz', () => {
  test('200 with every check passing when the store, Harbor and the destination are fine', async () => {
    const { status, body } = await readyz();
    expect(status).toBe(200);
    expect(body.status).toBe('ready');
    expect(Object.keys(body.checks).sort()).toEqual(['config', 'destination', 'harbor', 'store']);
    for (const check of Object.values(body.checks)) expect(check.ok).toBe(true);
    expect(body.checks.destination.message).toContain(dst.host);
  });

  test('503 naming the destination while it is down, 200 again once it is back', async () => {
    const outage = await pushImage(harbor.access, 'proj/metrics/outage', 'v1', {
      format: 'docker',
      layers: [{ seed: 'metrics-outage', size: 20_000 }],
    });
    await dst.down();
    try {
      // A job that needs the destination is what notices the outage.
      const push = harbor.webhookPayload('default', {
        project: 'proj',
        repository: 'metrics/outage',
        digest: outage.digest,
        tag: 'v1',
      });
      expect(await postWebhook(push.body, push.contentType)).toBe(200);
      const body = await waitForReadyz(503, 20_000);
      expect(body.status).toBe('not ready');
      expect(body.failed).toEqual(['destination']);
      expect(body.checks.destination).toEqual({
        ok: false,
        message: expect.stringContaining(dst.host),
        action: expect.stringContaining('destination registry'),
      });
      expect(body.checks.harbor.ok).toBe(true);
      expect(body.checks.store.ok).toBe(true);
      expect(body.error).toEqual({ code: 'NOT_READY', message: expect.stringMatching(/^destination: /) });

      const m = await scrape();
      expect(value(m, 'swr_harbor_sync_ready')).toBe(0);
      expect(value(m, 'swr_harbor_sync_readiness_check', { check: 'destination' })).toBe(0);
      expect(value(m, 'swr_harbor_sync_readiness_check', { check: 'harbor' })).toBe(1);
      expect(
        total(m, 'swr_harbor_sync_registry_requests_total', { registry: dst.host, status: 'network_error' }),
      ).toBeGreaterThan(0);
      expect(
        value(m, 'swr_harbor_sync_registry_retries_total', { registry: dst.host, reason: 'network' }),
      ).toBeGreaterThan(0);
    } finally {
      await dst.up();
    }
    // The job's retry reaches the destination again, which is what readiness goes by.
    await waitForReadyz(200, 45_000);
    await waitForJobs(sut.url, 'proj', (all) =>
      all.some((j) => j.spec.kind === 'image' && j.spec.repository === 'metrics/outage' && j.state === 'succeeded'),
    );
  }, 90_000);

  test('503 naming the job store while it cannot be written, 200 again once it can', async () => {
    // As in service-faults: SQLite's own read-only switch on the connection the service writes through (tests
    // run as root, so file modes cannot stop writes); reads keep working, as on a disk gone read-only.
    const db = (sut.running.service.queue as SqliteQueue).store.db;
    db.pragma('query_only = ON');
    try {
      // The store check's answer stands 5 s (one durable write per window, however often probes ask).
      const body = await waitForReadyz(503, 10_000);
      expect(body.failed).toEqual(['store']);
      expect(body.checks.store).toEqual({
        ok: false,
        message: expect.stringContaining('cannot be written'),
        action: expect.stringContaining(sut.dataDir),
      });
      expect(body.checks.destination.ok).toBe(true);
      const m = await scrape();
      expect(value(m, 'swr_harbor_sync_ready')).toBe(0);
      expect(value(m, 'swr_harbor_sync_readiness_check', { check: 'store' })).toBe(0);
      expect(value(m, 'swr_harbor_sync_readiness_check', { check: 'destination' })).toBe(1);
      // /healthz only reads, so it still says the process is alive.
      expect((await fetch(`${sut.url}/healthz`)).status).toBe(200);
    } finally {
      db.pragma('query_only = OFF');
    }
    await waitForReadyz(200, 10_000);
    expect(value(await scrape(), 'swr_harbor_sync_ready')).toBe(1);
  });
});

test('/metrics and /readyz stay open when an ApiToken guards the API', async () => {
  await sut.restart({ ApiToken: 'metrics-test-token-0123456789' });
  expect((await fetch(`${sut.url}/api/v1/jobs`)).status).toBe(401);
  expect((await fetch(`${sut.url}/metrics`)).status).toBe(200);
  expect((await readyz()).status).toBe(200);
  // A new service has its own registry: nothing counted by the one before carries over.
  expect(value(await scrape(), 'swr_harbor_sync_images_total', { outcome: 'synced' })).toBe(0);
});
