// A destination that speaks plain HTTP while the service is told SWRProtocol=https: the old tool's manual call
// is refused at once with the key to change, not "check RegionName and the network" (issue 15); a webhook's job
// fails on its first attempt with that key, and is not retried (no attempt can succeed until the key changes).
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { startHarbor, type HarborStandIn } from '../harness/harbor/index.js';
import { pushImage } from '../harness/images.js';
import { startRegistry, type RunningRegistry } from '../harness/registry.js';
import { startServiceUnderTest, waitForJobs, type ServiceUnderTest } from '../harness/service.js';
import { postPushWebhook } from '../harness/webhook-post.js';

let harbor: HarborStandIn;
let dst: RunningRegistry;
let sut: ServiceUnderTest;

beforeAll(async () => {
  [harbor, dst] = await Promise.all([startHarbor({ projects: [{ name: 'proj', public: false }] }), startRegistry()]);
  sut = await startServiceUnderTest(harbor.host, dst.host, { SWRProtocol: 'https' });
});

afterAll(async () => {
  await sut?.stop();
  await Promise.all([harbor?.stop(), dst?.stop()]);
});

test('POST /service/synchronization/namespace: 502 SWR_UNREACHABLE naming SWRProtocol=http', async () => {
  const res = await fetch(`${sut.running.url}/service/synchronization/namespace`, {
    method: 'POST',
    headers: {
      Projectname: 'proj',
      Namespace: 'mirror',
      HarborUser: 'admin',
      HarborPassword: 'Harbor12345',
      HWAuthMethod: 'AKSK',
      HWAK: 'TESTACCESSKEYVALUE01',
      HWSK: 'test-secret-key-value-0123456789',
      RegionName: 'cn-north-4',
    },
  });
  const body = (await res.json()) as { error: { code: string; message: string } };
  expect({ status: res.status, code: body.error.code }).toEqual({ status: 502, code: 'SWR_UNREACHABLE' });
  expect(body.error.message).toMatch(
    new RegExp(
      `^cannot reach ${dst.host}: reach ${dst.host} failed: it speaks plain HTTP, not HTTPS \\(ERR_SSL_WRONG_VERSION_NUMBER\\): set SWRProtocol=http$`,
    ),
  );
});

test('a webhook job that meets the other protocol fails on its first attempt, naming SWRProtocol=http', async () => {
  const image = await pushImage(harbor.access, 'proj/app', 'v1', {
    format: 'docker',
    layers: [{ seed: 'protocol-hint', size: 2_000 }],
  });
  const res = await postPushWebhook(harbor, sut.running.url, {
    project: 'proj',
    repository: 'app',
    digest: image.digest,
    tag: 'v1',
  });
  expect(res.status).toBe(200);
  // A retried job goes back to the queue with a second attempt to come: stop waiting at either.
  const jobs = await waitForJobs(sut.running.url, 'proj', (all) =>
    all.some((j) => j.state === 'failed' || j.attempts >= 2),
  );
  const job = jobs.find((j) => j.state === 'failed' || j.attempts >= 2)!;
  expect({ state: job.state, attempts: job.attempts }).toEqual({ state: 'failed', attempts: 1 });
  expect(job.error).toMatch(/it speaks plain HTTP, not HTTPS .*set SWRProtocol=http/);
});
