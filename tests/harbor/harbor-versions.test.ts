// The source beyond Harbor 2.3 and 1.10, through the real service: Harbor 2.0 (project route by numeric id
// only), 2.1 and 2.2 (by name only with X-Is-Resource-Name), a plain registry as source (HarborAPI=registry),
// and a HarborAddr that answers the registry API but no Harbor API, which must fail jobs, never skip them.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { HarborClient } from '../../src/harbor/client.js';
import { detectHarbor } from '../../src/harbor/detect.js';
import { V2Source } from '../../src/harbor/v2-source.js';
import { distributionEnvelope, startHarbor, type HarborStandIn } from '../harness/harbor/index.js';
import { assertImageComplete, getManifest, listTags, pushImage, type PushedImage } from '../harness/images.js';
import { startRegistry, type RunningRegistry } from '../harness/registry.js';
import { startServiceUnderTest, waitForJobs, type ServiceUnderTest } from '../harness/service.js';
import { until } from '../harness/until.js';

let dst: RunningRegistry;

beforeAll(async () => {
  dst = await startRegistry();
});

afterAll(async () => {
  await dst?.stop();
});

async function post(sut: ServiceUnderTest, path: string, body: string, contentType: string) {
  return fetch(`${sut.url}${path}`, { method: 'POST', headers: { 'content-type': contentType }, body });
}

describe.each(['2.1', '2.2'] as const)('Harbor %s', (version) => {
  let harbor: HarborStandIn;
  beforeAll(async () => {
    harbor = await startHarbor({
      version,
      projects: [
        { name: 'proj', public: false },
        { name: 'proj-two', public: true },
      ],
    });
  });
  afterAll(() => harbor?.stop());

  test('the project is found by its name through the route that version has', async () => {
    const client = new HarborClient({
      address: harbor.host,
      protocol: 'http',
      username: 'admin',
      password: 'Harbor12345',
    });
    try {
      const info = await detectHarbor(client);
      expect(info).toMatchObject({
        api: 'v2',
        version: expect.stringMatching(new RegExp(`^v${version.replace('.', '\\.')}\\.`)),
      });
      const source = new V2Source(client, info.version, () => undefined);
      expect(await source.getProject('proj')).toMatchObject({ name: 'proj', public: false });
      expect(await source.getProject('pro')).toBeUndefined();
      const byName = harbor.requests.filter((r) => r.path.startsWith('/api/v2.0/projects/pro'));
      if (version === '2.1') expect(byName).toEqual([]);
      else expect(byName.map((r) => r.status)).toEqual([200, 404]);
    } finally {
      await client.close();
    }
  });
});

describe('Harbor 2.0', () => {
  let harbor: HarborStandIn;
  let sut: ServiceUnderTest;
  beforeAll(async () => {
    [harbor] = await Promise.all([startHarbor({ version: '2.0', projects: [{ name: 'proj', public: false }] })]);
    sut = await startServiceUnderTest(harbor.host, dst.host, { NamespaceMap: 'proj:v20-ns' });
  });
  afterAll(async () => {
    await sut?.stop();
    await harbor?.stop();
  });

  test('has no project route by name', async () => {
    const res = await fetch(`${harbor.url}/api/v2.0/projects/proj`, {
      headers: {
        authorization: `Basic ${Buffer.from('admin:Harbor12345').toString('base64')}`,
        'x-is-resource-name': 'true',
      },
    });
    expect(res.status).toBe(404);
    await res.body?.cancel();
  });

  test('a manual sync finds the project through the list and copies it', async () => {
    const image = await pushImage(harbor.access, 'proj/app', 'v1', {
      format: 'docker',
      layers: [{ seed: 'v20-app', size: 10_000 }],
    });
    const answer = await post(sut, '/api/v1/sync', JSON.stringify({ project: 'proj' }), 'application/json');
    expect(answer.status).toBe(202);
    const jobs = await waitForJobs(sut.url, 'proj', (all) =>
      all.some((j) => j.state === 'succeeded' || j.state === 'failed'),
    );
    expect(jobs[0]).toMatchObject({ state: 'succeeded' });
    expect((await getManifest(dst, 'v20-ns/app', 'v1'))?.digest).toBe(image.digest);
    expect(harbor.requests.some((r) => r.path.startsWith('/api/v2.0/projects?name=proj&') && r.status === 200)).toBe(
      true,
    );
  });
});

describe('a plain registry as source (HarborAPI=registry)', () => {
  let source: RunningRegistry;
  let sut: ServiceUnderTest;
  let app: PushedImage;
  beforeAll(async () => {
    source = await startRegistry();
    app = await pushImage(source, 'team/app', 'v1', {
      format: 'docker',
      layers: [{ seed: 'plain-app', size: 10_000 }],
    });
    await pushImage(source, 'team/tools', 't1', { format: 'docker', layers: [{ seed: 'plain-tools', size: 10_000 }] });
    await pushImage(source, 'nginx', 'latest', { format: 'docker', layers: [{ seed: 'plain-nginx', size: 5_000 }] });
    await pushImage(source, 'other/x', 'v1', { format: 'docker', layers: [{ seed: 'plain-other', size: 5_000 }] });
    sut = await startServiceUnderTest(source.host, dst.host, { HarborAPI: 'registry', NamespaceMap: 'team:team-ns' });
  });
  afterAll(async () => {
    await sut?.stop();
    await source?.stop();
  });

  test("a registry envelope copies the event's digest under the event's tag; a repository outside a project is ignored", async () => {
    const envelope = distributionEnvelope(
      [
        {
          action: 'push',
          repository: 'team/app',
          digest: app.digest,
          tag: 'v1',
          mediaType: app.mediaType,
          size: app.size,
        },
        {
          action: 'push',
          repository: 'nginx',
          digest: app.digest,
          tag: 'latest',
          mediaType: app.mediaType,
          size: app.size,
        },
      ],
      'v1',
    );
    const answer = await post(sut, '/service/notifications', envelope.body, envelope.contentType);
    expect(answer.status).toBe(200);
    expect(((await answer.json()) as { ignored: string[] }).ignored).toEqual([
      expect.stringMatching(/nginx.* is not inside a Harbor project/),
    ]);
    const jobs = await waitForJobs(sut.url, 'team', (all) =>
      all.some((j) => j.state === 'succeeded' || j.state === 'failed'),
    );
    expect(jobs[0]).toMatchObject({ state: 'succeeded' });
    expect((await getManifest(dst, 'team-ns/app', 'v1'))?.digest).toBe(app.digest);
    await assertImageComplete(dst, 'team-ns/app', 'v1');
  });

  test('a project sync lists the project through the catalog and tags/list', async () => {
    const answer = await post(sut, '/api/v1/sync', JSON.stringify({ project: 'team' }), 'application/json');
    expect(answer.status).toBe(202);
    const { jobId } = (await answer.json()) as { jobId: string };
    const jobs = await waitForJobs(sut.url, 'team', (all) =>
      all.some((j) => j.id === jobId && (j.state === 'succeeded' || j.state === 'failed')),
    );
    const job = jobs.find((j) => j.id === jobId)!;
    expect(job.state).toBe('succeeded');
    expect(job.results.map((r) => r.destination).sort()).toEqual([
      `${dst.host}/team-ns/app:v1`,
      `${dst.host}/team-ns/tools:t1`,
    ]);
    expect(await listTags(dst, 'team-ns/tools')).toEqual(['t1']);
  });

  test('an untagged push waits for its tagged event, which then copies that digest', async () => {
    const image = await pushImage(source, 'team/bydigest', undefined, {
      format: 'docker',
      layers: [{ seed: 'plain-bydigest', size: 5_000 }],
    });
    const untagged = distributionEnvelope(
      [
        {
          action: 'push',
          repository: 'team/bydigest',
          digest: image.digest,
          mediaType: image.mediaType,
          size: image.size,
        },
      ],
      'v1',
    );
    expect((await post(sut, '/service/notifications', untagged.body, untagged.contentType)).status).toBe(200);
    // Past the coalescing window (300 ms in tests): the push was resolved, to no tag, and dropped.
    const dropped = `team/bydigest@${image.digest} has no tag in Harbor`;
    await until('the untagged push to be resolved to no tag', async () =>
      (await readFile(join(sut.logDir, 'running.log'), 'utf8')).includes(dropped) ? true : undefined,
    );
    const mine = (all: Awaited<ReturnType<typeof waitForJobs>>) =>
      all.filter((j) => j.spec.kind === 'image' && j.spec.repository === 'bydigest');
    expect(mine(await waitForJobs(sut.url, 'team', (all) => all.length > 0))).toEqual([]);
    // Distribution sends the tagged event when the tag is pushed (here the same manifest under a tag).
    await pushImage(source, 'team/bydigest', 'v9', {
      format: 'docker',
      layers: [{ seed: 'plain-bydigest', size: 5_000 }],
    });
    const tagged = distributionEnvelope(
      [
        {
          action: 'push',
          repository: 'team/bydigest',
          digest: image.digest,
          tag: 'v9',
          mediaType: image.mediaType,
          size: image.size,
        },
      ],
      'v1',
    );
    expect((await post(sut, '/service/notifications', tagged.body, tagged.contentType)).status).toBe(200);
    const jobs = mine(
      await waitForJobs(sut.url, 'team', (all) => mine(all).some((j) => j.state !== 'queued' && j.state !== 'running')),
    );
    expect(jobs).toEqual([expect.objectContaining({ state: 'succeeded' })]);
    expect((await getManifest(dst, 'team-ns/bydigest', 'v9'))?.digest).toBe(image.digest);
  });

  test('the reconcile sweep lists the registry and queues a tag the destination lacks', async () => {
    await pushImage(source, 'team/app', 'v2', { format: 'docker', layers: [{ seed: 'plain-app-v2', size: 5_000 }] });
    const summary = await sut.running.reconcile();
    expect(summary).toMatchObject({ errors: 0, queued: 1, missing: 1 });
    await waitForJobs(sut.url, 'team', (all) =>
      all.some((j) => j.spec.kind === 'image' && j.spec.tags.includes('v2') && j.state === 'succeeded'),
    );
    expect((await listTags(dst, 'team-ns/app')).sort()).toEqual(['v1', 'v2']);
  });
});

test('a HarborAddr that answers /v2/ but no Harbor API fails the job with what to do, and /readyz says so; nothing is "deleted"', async () => {
  const plain = await startRegistry();
  const sut = await startServiceUnderTest(plain.host, dst.host, { NamespaceMap: 'team:nowhere', JobRetries: '1' });
  try {
    const image = await pushImage(plain, 'team/app', 'v1', {
      format: 'docker',
      layers: [{ seed: 'no-api', size: 5_000 }],
    });
    const envelope = distributionEnvelope(
      [
        {
          action: 'push',
          repository: 'team/app',
          digest: image.digest,
          tag: 'v1',
          mediaType: image.mediaType,
          size: image.size,
        },
      ],
      'v1',
    );
    expect((await post(sut, '/service/notifications', envelope.body, envelope.contentType)).status).toBe(200);
    const message =
      /does not answer as Harbor \(GET \/api\/v2\.0\/systeminfo gave 404, GET \/api\/systeminfo gave 404; it answers the registry API \/v2\/\): check HarborAddr\/HarborProtocol, or set HarborAPI=registry to sync through the registry alone/;
    const jobs = await waitForJobs(sut.url, 'team', (all) => all.some((j) => (j.error ?? '').length > 0));
    expect(jobs[0].state).not.toBe('skipped');
    expect(jobs[0].error).toMatch(message);
    expect(JSON.stringify(jobs)).not.toMatch(/deleted/);
    const ready = await fetch(`${sut.url}/readyz`);
    expect(ready.status).toBe(503);
    const body = (await ready.json()) as { checks: Record<string, { ok: boolean; message: string; action?: string }> };
    expect(body.checks.harbor).toMatchObject({ ok: false, message: expect.stringMatching(message) });
  } finally {
    await sut.stop();
    await plain.stop();
  }
});
