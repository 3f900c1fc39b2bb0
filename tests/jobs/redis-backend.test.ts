// QueueBackend=redis, in process: while Redis hangs the service answers (503, so Harbor sends the webhook
// again) instead of hanging and readiness names the store; and a reconcile sweep asked of three replicas at
// once runs on one of them.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { startHarbor, type HarborStandIn } from '../harness/harbor/index.js';
import { getManifest, pushImage } from '../harness/images.js';
import { startRedis, type RunningRedis } from '../harness/redis.js';
import { startRegistry, type RunningRegistry } from '../harness/registry.js';
import { startServiceUnderTest, waitForJobs, type ServiceUnderTest } from '../harness/service.js';
import { until } from '../harness/until.js';
import { postPushWebhook } from '../harness/webhook-post.js';

let redis: RunningRedis;
let harbor: HarborStandIn;
let dst: RunningRegistry;
let sut: ServiceUnderTest;

beforeAll(async () => {
  [redis, harbor, dst] = await Promise.all([
    startRedis(),
    startHarbor({ projects: [{ name: 'proj', public: false }] }),
    startRegistry(),
  ]);
  sut = await startServiceUnderTest(harbor.host, dst.host, {
    QueueBackend: 'redis',
    RedisURL: redis.url,
    RedisKeyPrefix: 'outage',
  });
});

afterAll(async () => {
  redis?.thaw();
  await sut?.stop();
  await Promise.all([redis?.stop(), harbor?.stop(), dst?.stop()]);
});

// A write that timed out may still reach Redis once it answers again: the resent webhook then joins that job.
test('a hung Redis: webhooks answer 503 within seconds; once it is back the resent webhook makes one job, copied once', async () => {
  const image = await pushImage(harbor.access, 'proj/outage/app', 'v1', {
    format: 'docker',
    layers: [{ seed: 'outage', size: 20_000 }],
  });
  const send = () =>
    postPushWebhook(harbor, sut.url, { project: 'proj', repository: 'outage/app', digest: image.digest, tag: 'v1' });

  redis.freeze();
  try {
    const started = Date.now();
    const refused = await send();
    const waited = Date.now() - started;
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('STORE_UNAVAILABLE');
    expect(waited).toBeLessThan(15_000);

    // The store check's answer stands 5 s: a probe from before the hang may still answer for it.
    const ready = await readyzAnswering(503);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { failed: string[] }).failed).toContain('store');
    expect((await fetch(`${sut.url}/api/v1/jobs`)).status).toBe(503);
    // Alive all the same: a liveness probe must not restart every replica because Redis hangs.
    const aliveFrom = Date.now();
    expect((await fetch(`${sut.url}/healthz`)).status).toBe(200);
    expect(Date.now() - aliveFrom).toBeLessThan(3000);
  } finally {
    redis.thaw();
  }

  // Harbor sends it again; now it is recorded and copied, once.
  expect((await send()).status).toBe(200);
  const jobs = await waitForJobs(sut.url, 'proj', (all) => all.some((j) => j.state === 'succeeded'));
  expect(jobs.filter((j) => j.spec.kind === 'image' && j.spec.repository === 'outage/app')).toHaveLength(1);
  expect((await getManifest(dst, 'mirror/outage/app', 'v1'))?.digest).toBe(image.digest);
  expect((await readyzAnswering(200)).status).toBe(200);
});

/** /readyz's answer once it is `status` (polled for up to 10 s), or the last one. */
async function readyzAnswering(status: number): Promise<Response> {
  let last = await fetch(`${sut.url}/readyz`);
  const deadline = Date.now() + 10_000;
  while (last.status !== status && Date.now() < deadline) {
    await last.body?.cancel();
    await new Promise((resolve) => setTimeout(resolve, 250));
    last = await fetch(`${sut.url}/readyz`);
  }
  return last;
}

test('a reconcile sweep asked of three replicas at the same moment runs on exactly one', async () => {
  const image = await pushImage(harbor.access, 'proj/sweep/app', 'v1', {
    format: 'docker',
    layers: [{ seed: 'sweep', size: 20_000 }],
  });
  const others = await Promise.all(
    [1, 2].map(() =>
      startServiceUnderTest(harbor.host, dst.host, {
        QueueBackend: 'redis',
        RedisURL: redis.url,
        RedisKeyPrefix: 'outage',
      }),
    ),
  );
  try {
    const all = [sut, ...others];
    const summaries = await Promise.all(all.map((s) => s.running.reconcile()));
    const ran = summaries.filter((x) => x !== undefined);
    expect(ran).toHaveLength(1);
    expect(ran[0].queued).toBe(1);
    // The one job it queued is seen, and run once, by all three.
    const jobs = await waitForJobs(others[0].url, 'proj', (js) =>
      js.some((j) => j.spec.kind === 'image' && j.spec.repository === 'sweep/app' && j.state === 'succeeded'),
    );
    expect(jobs.filter((j) => j.spec.kind === 'image' && j.spec.repository === 'sweep/app')).toHaveLength(1);
    expect((await getManifest(dst, 'mirror/sweep/app', 'v1'))?.digest).toBe(image.digest);
    // Once it is over, the next sweep may run anywhere: the lock was released, not left to expire.
    expect(await others[1].running.reconcile()).toBeDefined();
  } finally {
    await Promise.all(others.map((o) => o.stop()));
  }
});

test('with an interval, three replicas sweep about once per interval together, not once each', async () => {
  const trio = await Promise.all(
    [0, 1, 2].map(() =>
      startServiceUnderTest(harbor.host, dst.host, {
        QueueBackend: 'redis',
        RedisURL: redis.url,
        RedisKeyPrefix: 'sweeps',
        ReconcileInterval: '2s',
      }),
    ),
  );
  try {
    const ticks = async (t: ServiceUnderTest) =>
      (
        (await readFile(join(t.logDir, 'running.log'), 'utf8')).match(
          /reconcile sweep started \(interval\)|reconcile sweep \(interval\) not started here/g,
        ) ?? []
      ).length;
    await until(
      'each replica to tick three times',
      async () => ((await Promise.all(trio.map(ticks))).every((n) => n >= 3) ? true : undefined),
      30_000,
      200,
    );
  } finally {
    await Promise.all(trio.map((t) => t.running.close(0)));
  }
  const logs = await Promise.all(trio.map((t) => readFile(join(t.logDir, 'running.log'), 'utf8')));
  const started = logs.map((l) => (l.match(/reconcile sweep started \(interval\)/g) ?? []).length);
  const skipped = logs.map((l) => (l.match(/reconcile sweep \(interval\) not started here/g) ?? []).length);
  await Promise.all(trio.map((t) => t.stop()));
  // Each replica ticked 3 times in 7 s: 9 ticks, of which at most one per 1.8 s may sweep.
  const total = started.reduce((a, b) => a + b, 0);
  expect(total + skipped.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(8);
  expect(total).toBeGreaterThanOrEqual(2);
  expect(total).toBeLessThanOrEqual(4);
});
