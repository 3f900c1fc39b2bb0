// The service end to end: Harbor webhooks of every format arrive, jobs are recorded and run, and the images
// land in the mapped namespace of a real destination registry, with the same repository names and tags.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { distributionEnvelope, multiArchPushEvents, startHarbor, type HarborStandIn } from '../harness/harbor/index.js';
import { assertImageComplete, getManifest, listTags, pushImage, pushIndex } from '../harness/images.js';
import { startRegistry, type RunningRegistry } from '../harness/registry.js';
import { jobsOf, settled, startServiceUnderTest, waitForJobs, type ServiceUnderTest } from '../harness/service.js';
import { until } from '../harness/until.js';

let harbor: HarborStandIn;
let dst: RunningRegistry;
let sut: ServiceUnderTest;

beforeAll(async () => {
  [harbor, dst] = await Promise.all([
    startHarbor({
      projects: [
        { name: 'proj', public: false },
        { name: 'pub', public: true },
        { name: 'unmapped', public: true },
      ],
    }),
    startRegistry(),
  ]);
  sut = await startServiceUnderTest(harbor.host, dst.host);
});

afterAll(async () => {
  await sut?.stop();
  await Promise.all([harbor?.stop(), dst?.stop()]);
});

async function post(body: string, contentType: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${sut.url}/service/notifications`, {
    method: 'POST',
    headers: { 'content-type': contentType, ...headers },
    body,
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function expectMirrored(project: string, namespace: string, repo: string, tag: string): Promise<void> {
  const source = await getManifest(harbor.registry, `${project}/${repo}`, tag);
  expect((await getManifest(dst, `${namespace}/${repo}`, tag))?.digest).toBe(source!.digest);
  await assertImageComplete(dst, `${namespace}/${repo}`, tag);
}

describe('each webhook format ends with the image at the destination', () => {
  test.each(['default', 'cloudevents'] as const)('Harbor 2.x %s payload', async (kind) => {
    const repo = `hook-${kind}/app`;
    const image = await pushImage(harbor.access, `proj/${repo}`, 'v1', {
      format: 'docker',
      layers: [{ seed: `hook-${kind}`, size: 30_000 }],
    });
    const payload = harbor.webhookPayload(kind, { project: 'proj', repository: repo, digest: image.digest, tag: 'v1' });
    const answer = await post(payload.body, payload.contentType);
    expect(answer.status).toBe(200);
    expect(answer.json.accepted).toBe(1);
    const jobs = await waitForJobs(sut.url, 'proj', (all) =>
      all.some((j) => j.spec.kind === 'image' && j.spec.repository === repo && j.state === 'succeeded'),
    );
    const job = jobs.find((j) => j.spec.kind === 'image' && j.spec.repository === repo)!;
    expect(job.results[0]).toMatchObject({
      status: 'copied',
      sourceDigest: image.digest,
      destinationDigest: image.digest,
    });
    await expectMirrored('proj', 'mirror', repo, 'v1');
  });

  test('Harbor 1.x registry notification envelope: the manifest push syncs, blob and pull events are ignored', async () => {
    const image = await pushImage(harbor.access, 'pub/envelope', 'v2', {
      format: 'oci',
      layers: [{ seed: 'envelope', size: 30_000 }],
    });
    const envelope = distributionEnvelope(
      [
        {
          action: 'push',
          repository: 'pub/envelope',
          digest: image.layers[0].digest,
          mediaType: image.layers[0].mediaType,
          size: image.layers[0].size,
        },
        {
          action: 'push',
          repository: 'pub/envelope',
          digest: image.digest,
          tag: 'v2',
          mediaType: image.mediaType,
          size: image.size,
        },
        {
          action: 'pull',
          repository: 'pub/envelope',
          digest: image.digest,
          tag: 'v2',
          mediaType: image.mediaType,
          size: image.size,
        },
      ],
      'v1',
    );
    const answer = await post(envelope.body, envelope.contentType);
    expect(answer.status).toBe(200);
    expect(answer.json.accepted).toBe(1);
    expect(answer.json.ignored).toHaveLength(2);
    await waitForJobs(sut.url, 'pub', (all) =>
      all.some((j) => j.spec.kind === 'image' && j.spec.repository === 'envelope' && j.state === 'succeeded'),
    );
    await expectMirrored('pub', 'public-ns', 'envelope', 'v2');
  });
});

test('a multi-arch push burst (children with tag = digest, then the index) becomes one job', async () => {
  const index = await pushIndex(harbor.access, 'proj/multi', 'v3', {
    format: 'docker',
    images: [
      { platform: { os: 'linux', architecture: 'amd64' }, layers: [{ seed: 'burst-amd', size: 20_000 }] },
      { platform: { os: 'linux', architecture: 'arm64' }, layers: [{ seed: 'burst-arm', size: 20_000 }] },
    ],
  });
  const events = multiArchPushEvents(
    'proj',
    'multi',
    { digest: index.digest, tag: 'v3' },
    index.children.map((c) => c.digest),
  );
  for (const event of [...events, ...events]) {
    const payload = harbor.webhookPayload('default', event);
    expect((await post(payload.body, payload.contentType)).status).toBe(200);
  }
  // Let the untagged children pass the coalescing window and be resolved (to no tag).
  const dropped = index.children.map((c) => `proj/multi@${c.digest} has no tag in Harbor`);
  await until('the untagged children to be resolved to no tag', async () => {
    const log = await readFile(join(sut.logDir, 'running.log'), 'utf8');
    return dropped.every((line) => log.includes(line)) ? true : undefined;
  });
  const jobs = await waitForJobs(sut.url, 'proj', (all) =>
    settled(
      all.filter((j) => j.spec.kind === 'image' && j.spec.repository === 'multi'),
      1,
    ),
  );
  expect(jobs.filter((j) => j.spec.kind === 'image' && j.spec.repository === 'multi')).toHaveLength(1);
  await expectMirrored('proj', 'mirror', 'multi', 'v3');
});

test('an event whose tag is the digest is resolved to the real tags through the Harbor API', async () => {
  const image = await pushImage(harbor.access, 'proj/robot', 'release-1', {
    format: 'docker',
    layers: [{ seed: 'robot', size: 20_000 }],
  });
  await harbor.addTag('proj/robot', image.digest, 'stable');
  const payload = harbor.webhookPayload('cloudevents', { project: 'proj', repository: 'robot', digest: image.digest });
  expect((await post(payload.body, payload.contentType)).status).toBe(200);
  await waitForJobs(sut.url, 'proj', (all) =>
    all.some((j) => j.spec.kind === 'image' && j.spec.repository === 'robot' && j.state === 'succeeded'),
  );
  expect((await listTags(dst, 'mirror/robot')).sort()).toEqual(['release-1', 'stable']);
  await expectMirrored('proj', 'mirror', 'robot', 'stable');
});

test('a push to a project not in NamespaceMap is acknowledged, logged and not synced', async () => {
  const image = await pushImage(harbor.access, 'unmapped/app', 'v1', {
    format: 'docker',
    layers: [{ seed: 'unmapped', size: 10_000 }],
  });
  const payload = harbor.webhookPayload('default', {
    project: 'unmapped',
    repository: 'app',
    digest: image.digest,
    tag: 'v1',
  });
  const answer = await post(payload.body, payload.contentType);
  expect(answer.status).toBe(200);
  expect(answer.json.accepted).toBe(0);
  expect(answer.json.ignored).toEqual(['project unmapped is not in NamespaceMap']);
  expect(await jobsOf(sut.url, 'unmapped')).toEqual([]);
  expect(await readFile(join(sut.logDir, 'running.log'), 'utf8')).toContain('project unmapped is not in NamespaceMap');
});

test('per-project logs record each step and each synced image', async () => {
  const running = await readFile(join(sut.logDir, 'proj-running.log'), 'utf8');
  const success = await readFile(join(sut.logDir, 'proj-success.log'), 'utf8');
  expect(running).toMatch(/copied .*proj\/multi:v3 -> .*mirror\/multi:v3 sha256:/);
  expect(success).toMatch(new RegExp(`proj/robot:stable -> ${dst.host}/mirror/robot:stable sha256:[0-9a-f]{64}`));
});

describe('bad webhook bodies get a 4xx and record nothing', () => {
  test.each([
    ['not JSON', '{"type": "PUSH_ARTIFACT",', 'application/json', 400],
    ['an array', '[1,2]', 'application/json', 400],
    ['an unknown shape', '{"hello":"world"}', 'application/json', 400],
    [
      'a bad digest',
      JSON.stringify({
        type: 'PUSH_ARTIFACT',
        event_data: {
          resources: [{ digest: 'sha256:nothex', tag: 'v1' }],
          repository: { name: 'x', namespace: 'proj' },
        },
      }),
      'application/json',
      400,
    ],
    [
      'a path trick in the project',
      JSON.stringify({
        type: 'PUSH_ARTIFACT',
        event_data: {
          resources: [{ digest: `sha256:${'a'.repeat(64)}`, tag: 'v1' }],
          repository: { name: 'x', namespace: '../etc' },
        },
      }),
      'application/json',
      400,
    ],
    ['an oversized body', JSON.stringify({ pad: 'x'.repeat(2 * 1024 * 1024) }), 'application/json', 413],
  ])('%s', async (_name, body, type, status) => {
    const before = (await jobsOf(sut.url, 'proj')).length;
    const answer = await post(body, type);
    expect(answer.status).toBe(status);
    expect(answer.json.error).toEqual(
      expect.objectContaining({ code: expect.any(String), message: expect.any(String) }),
    );
    expect((await jobsOf(sut.url, 'proj')).length).toBe(before);
  });

  test('a pull event is acknowledged and ignored', async () => {
    const fixture = await readFile(new URL('../fixtures/harbor-pull-default.json', import.meta.url), 'utf8');
    const answer = await post(fixture, 'application/json');
    expect(answer.status).toBe(200);
    expect(answer.json.accepted).toBe(0);
  });
});
