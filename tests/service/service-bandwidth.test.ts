// MaxBandwidth in the running service: an image pushed to the Harbor stand-in and synced by webhook into a real
// registry goes through the process's cap, and /metrics shows the cap, the bytes it granted and the waits.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { startHarbor, type HarborStandIn } from '../harness/harbor/index.js';
import { assertImageComplete, pushImage } from '../harness/images.js';
import { startRegistry, type RunningRegistry } from '../harness/registry.js';
import { startServiceUnderTest, waitForJobs, type ServiceUnderTest } from '../harness/service.js';
import { postPushWebhook } from '../harness/webhook-post.js';

let harbor: HarborStandIn;
let dst: RunningRegistry;
let sut: ServiceUnderTest;

beforeAll(async () => {
  [harbor, dst] = await Promise.all([startHarbor({ projects: [{ name: 'proj', public: false }] }), startRegistry()]);
  sut = await startServiceUnderTest(harbor.host, dst.host, { MaxBandwidth: '1MB/s' });
});

afterAll(async () => {
  await sut?.stop();
  await Promise.all([harbor?.stop(), dst?.stop()]);
});

async function metric(name: string): Promise<number | undefined> {
  const text = await (await fetch(`${sut.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

test('a webhook-synced image is sent under the cap: every blob byte granted, with waits, shown in /metrics', async () => {
  const image = await pushImage(harbor.access, 'proj/bw/app', 'v1', {
    format: 'docker',
    layers: [{ seed: 'service-bw', size: 500_000 }],
  });
  expect(await metric('swr_harbor_sync_bandwidth_limit_bytes_per_second')).toBe(1_000_000);
  expect(await metric('swr_harbor_sync_bandwidth_granted_bytes_total')).toBe(0);

  const res = await postPushWebhook(harbor, sut.url, {
    project: 'proj',
    repository: 'bw/app',
    digest: image.digest,
    tag: 'v1',
  });
  expect(res.status).toBe(200);
  await waitForJobs(sut.url, 'proj', (jobs) => jobs.some((j) => j.state === 'succeeded'));
  await assertImageComplete(dst, 'mirror/bw/app', 'v1');

  const blobBytes = image.config.size + image.layers.reduce((sum, l) => sum + l.size, 0);
  expect(await metric('swr_harbor_sync_bandwidth_granted_bytes_total')).toBe(blobBytes);
  expect(await metric('swr_harbor_sync_copied_bytes_total')).toBe(blobBytes);
  // 500 kB past a burst of 100 kB (a tenth of a second of 1 MB/s) cannot go without waiting.
  expect(await metric('swr_harbor_sync_bandwidth_waits_total')).toBeGreaterThan(0);
  expect(await metric('swr_harbor_sync_bandwidth_wait_seconds_total')).toBeGreaterThan(0);
});
