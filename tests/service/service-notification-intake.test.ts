// /service/notifications of the running service, at its edges: which Content-Types it reads (what Harbor 1.10,
// Harbor 2.x and Distribution send) and which it refuses with 415, an envelope with one bad event (200, the
// good ones taken), Harbor 1.10's pushImage through to the destination, and an 8,000-resource body that
// makes no more jobs than the cap.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { MAX_PUSHES_PER_NOTIFICATION } from '../../src/harbor/webhook.js';
import { distributionEnvelope, startHarbor, type HarborStandIn } from '../harness/harbor/index.js';
import { getManifest, pushImage } from '../harness/images.js';
import { startRegistry, type RunningRegistry } from '../harness/registry.js';
import { jobsOf, startServiceUnderTest, waitForJobs, type ServiceUnderTest } from '../harness/service.js';
import type { ServiceJson } from '../harness/service-json.js';

let harbor: HarborStandIn;
let dst: RunningRegistry;
let sut: ServiceUnderTest;

beforeAll(async () => {
  [harbor, dst] = await Promise.all([
    startHarbor({
      projects: [
        { name: 'proj', public: false },
        { name: 'pub', public: true },
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

async function post(body: string, contentType: string | undefined) {
  const res = await fetch(`${sut.url}/service/notifications`, {
    method: 'POST',
    headers: contentType === undefined ? {} : { 'content-type': contentType },
    body,
  });
  return {
    status: res.status,
    contentType: res.headers.get('content-type') ?? '',
    json: (await res.json()) as ServiceJson,
  };
}

async function jobCount(project: string): Promise<number> {
  const res = await fetch(`${sut.url}/api/v1/jobs?project=${project}&limit=1000`);
  return ((await res.json()) as { jobs: unknown[] }).jobs.length;
}

const ignoredPull = JSON.stringify({
  type: 'PULL_ARTIFACT',
  occur_at: 1,
  operator: 'admin',
  event_data: {
    resources: [{ digest: `sha256:${'d'.repeat(64)}`, tag: 'v1' }],
    repository: { name: 'app', namespace: 'proj' },
  },
});

describe('Content-Type', () => {
  test.each([
    ['text/plain'],
    ['text/plain; charset=utf-8'],
    ['application/x-www-form-urlencoded'],
    ['multipart/form-data; boundary=x'],
    ['application/xml'],
    ['text/xml'],
    ['application/octet-stream'],
    ['text/json'],
    [undefined],
  ])('a body declared %s is refused with 415 naming the accepted types, and nothing is recorded', async (type) => {
    const before = await jobCount('proj');
    // A valid push: only the label is wrong. fetch labels a string body text/plain unless told: a Blob of no type sends none.
    const body = JSON.stringify({
      type: 'PUSH_ARTIFACT',
      occur_at: 1,
      operator: 'admin',
      event_data: {
        resources: [{ digest: `sha256:${'e'.repeat(64)}`, tag: 'v1' }],
        repository: { name: 'ct', namespace: 'proj' },
      },
    });
    const res = await fetch(`${sut.url}/service/notifications`, {
      method: 'POST',
      headers: type === undefined ? {} : { 'content-type': type },
      body: type === undefined ? new Blob([body]) : body,
    });
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const answer = (await res.json()) as { error: { code: string; message: string } };
    expect(res.status).toBe(415);
    expect(answer.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(answer.error.message).toContain(
      'application/json, application/cloudevents+json, application/vnd.docker.distribution.events.v1+json',
    );
    expect(answer.error.message).toContain(type === undefined ? 'without Content-Type' : type.split(';')[0]);
    expect(await jobCount('proj')).toBe(before);
  });

  test.each([
    // Harbor 1.9 to 2.x webhook jobs (webhook_job.go), CloudEvents from 2.8, Distribution 2.x (Harbor 1.x's registry) and 3.x.
    ['application/json'],
    ['application/json; charset=utf-8'],
    ['Application/JSON'],
    ['application/cloudevents+json'],
    ['application/vnd.docker.distribution.events.v1+json'],
    ['application/vnd.docker.distribution.events.v2+json'],
    ['application/vnd.example.anything+json'],
  ])('a body declared %s is read (the same body as text/plain is not)', async (type) => {
    const answer = await post(ignoredPull, type);
    expect(answer.status).toBe(200);
    expect(answer.json.ignored).toEqual(['Harbor event PULL_ARTIFACT is not a push']);
    expect((await post(ignoredPull, 'text/plain')).status).toBe(415);
  });
});

describe('an envelope with one bad event', () => {
  test('is answered 200: the good push becomes a job and syncs, the bad event is listed with its reason', async () => {
    const image = await pushImage(harbor.access, 'pub/partial', 'v1', {
      format: 'docker',
      layers: [{ seed: 'partial-envelope', size: 20_000 }],
    });
    const good = JSON.parse(
      distributionEnvelope(
        [
          {
            action: 'push',
            repository: 'pub/partial',
            digest: image.digest,
            tag: 'v1',
            mediaType: image.mediaType,
            size: image.size,
          },
        ],
        'v1',
      ).body,
    ) as { events: object[] };
    const bad = {
      ...good.events[0],
      target: { mediaType: image.mediaType, repository: 'pub/partial', digest: 'sha256:not-a-digest', tag: 'v1' },
    };
    const answer = await post(
      JSON.stringify({ events: [bad, good.events[0]] }),
      'application/vnd.docker.distribution.events.v1+json',
    );
    expect(answer.status).toBe(200);
    expect(answer.json.accepted).toBe(1);
    expect(answer.json.ignored).toEqual([
      'events[0] is malformed: digest "sha256:not-a-digest" is not a sha256 digest',
    ]);
    await waitForJobs(sut.url, 'pub', (jobs) =>
      jobs.some((j) => j.spec.kind === 'image' && j.spec.repository === 'partial' && j.state === 'succeeded'),
    );
    expect((await getManifest(dst, 'public-ns/partial', 'v1'))?.digest).toBe(image.digest);
  });

  test('an envelope of bad events only is 200 with each listed; a body that is no envelope or webhook at all is still 400', async () => {
    const answer = await post(
      JSON.stringify({ events: [{ action: 'push' }, null] }),
      'application/vnd.docker.distribution.events.v1+json',
    );
    expect(answer.status).toBe(200);
    expect(answer.json.accepted).toBe(0);
    expect(answer.json.ignored).toHaveLength(2);
    expect((await post('{"events":"x"}', 'application/json')).status).toBe(400);
  });
});

test('Harbor 1.10 pushImage (the fixture, aimed at the stand-in) is a push that reaches the destination', async () => {
  const image = await pushImage(harbor.access, 'proj/legacy/app', 'v1.4.2', {
    format: 'docker',
    layers: [{ seed: 'harbor-1.10-push', size: 20_000 }],
  });
  const fixture = JSON.parse(
    await readFile(new URL('../fixtures/harbor-1.10-pushImage.json', import.meta.url), 'utf8'),
  );
  fixture.event_data.resources[0].digest = image.digest;
  fixture.event_data.resources[0].resource_url = `${harbor.host}/proj/legacy/app:v1.4.2`;
  fixture.event_data.repository = {
    ...fixture.event_data.repository,
    name: 'legacy/app',
    namespace: 'proj',
    repo_full_name: 'proj/legacy/app',
  };
  const answer = await post(JSON.stringify(fixture), 'application/json');
  expect(answer.status).toBe(200);
  expect(answer.json.accepted).toBe(1);
  await waitForJobs(sut.url, 'proj', (jobs) =>
    jobs.some((j) => j.spec.kind === 'image' && j.spec.repository === 'legacy/app' && j.state === 'succeeded'),
  );
  expect((await getManifest(dst, 'mirror/legacy/app', 'v1.4.2'))?.digest).toBe(image.digest);
});

test('an 8,000-resource webhook (about 790 KB) is answered 200 and makes at most 100 jobs; the rest is one ignored line', async () => {
  // The shape of issue 11's body: digest and tag per resource (a resource_url would push it past the 1 MB limit).
  const resources = Array.from({ length: 8000 }, (_, i) => ({
    digest: `sha256:${i.toString(16).padStart(64, 'f')}`,
    tag: `flood-${i}`,
  }));
  const body = JSON.stringify({
    type: 'PUSH_ARTIFACT',
    occur_at: 1,
    operator: 'admin',
    event_data: {
      resources,
      repository: {
        date_created: 1,
        name: 'flood',
        namespace: 'pub',
        repo_full_name: 'pub/flood',
        repo_type: 'public',
      },
    },
  });
  expect(body.length).toBeGreaterThan(700_000);
  expect(body.length).toBeLessThan(1024 * 1024);
  const before = await jobCount('pub');
  const answer = await post(body, 'application/json');
  expect(answer.status).toBe(200);
  expect(answer.json.accepted).toBe(MAX_PUSHES_PER_NOTIFICATION);
  expect(answer.json.ignored).toEqual([
    expect.stringMatching(/^7900 more resources of the event not read: at most 100 /),
  ]);
  expect((await jobCount('pub')) - before).toBeLessThanOrEqual(MAX_PUSHES_PER_NOTIFICATION);
  expect(
    (await jobsOf(sut.url, 'pub')).filter((j) => j.spec.kind === 'image' && j.spec.repository === 'flood').length,
  ).toBeLessThanOrEqual(MAX_PUSHES_PER_NOTIFICATION);
}, 60_000);
