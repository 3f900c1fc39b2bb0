// QueueBackend=redis while Redis hangs: the service answers (503, so Harbor sends the webhook again) instead
// of hanging, readiness names the store, and once Redis is back the webhook is taken and the image copied.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { startHarbor, type HarborStandIn } from './harness/harbor/index.js';
import { getManifest, pushImage } from './harness/images.js';
import { startRedis, type RunningRedis } from './harness/redis.js';
import { startRegistry, type RunningRegistry } from './harness/registry.js';
import { startServiceUnderTest, waitForJobs, type ServiceUnderTest } from './harness/service.js';

let redis: RunningRedis;
let harbor: HarborStandIn;
let dst: RunningRegistry;
let sut: ServiceUnderTest;

beforeAll(async () => {
  [redis, harbor, dst] = await Promise.all([startRedis(), startHarbor({ projects: [{ name: 'proj', public: false }] }), startRegistry()]);
  sut = await startServiceUnderTest(harbor.host, dst.host, { QueueBackend: 'redis', RedisURL: redis.url, RedisKeyPrefix: 'outage' });
});

afterAll(async () => {
  redis?.thaw();
  await sut?.stop();
  await Promise.all([redis?.stop(), harbor?.stop(), dst?.stop()]);
});

// A write that timed out may still reach Redis once it answers again: the resent webhook then joins that job.
test('a hung Redis: webhooks answer 503 within seconds; once it is back the resent webhook makes one job, copied once', async () => {
  const image = await pushImage(harbor.access, 'proj/outage/app', 'v1', { format: 'docker', layers: [{ seed: 'outage', size: 20_000 }] });
  const payload = harbor.webhookPayload('default', { project: 'proj', repository: 'outage/app', digest: image.digest, tag: 'v1' });
  const send = () => fetch(`${sut.url}/service/notifications`, { method: 'POST', headers: { 'content-type': payload.contentType }, body: payload.body });

  redis.freeze();
  try {
    const started = Date.now();
    const refused = await send();
    const waited = Date.now() - started;
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('STORE_UNAVAILABLE');
    expect(waited).toBeLessThan(15_000);

    const ready = await fetch(`${sut.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { failed: string[] }).failed).toContain('store');
    expect((await fetch(`${sut.url}/api/v1/jobs`)).status).toBe(503);
  } finally {
    redis.thaw();
  }

  // Harbor sends it again; now it is recorded and copied, once.
  expect((await send()).status).toBe(200);
  const jobs = await waitForJobs(sut.url, 'proj', (all) => all.some((j) => j.state === 'succeeded'));
  expect(jobs.filter((j) => j.spec.kind === 'image' && j.spec.repository === 'outage/app')).toHaveLength(1);
  expect((await getManifest(dst, 'mirror/outage/app', 'v1'))?.digest).toBe(image.digest);
  expect((await fetch(`${sut.url}/readyz`)).status).toBe(200);
});
