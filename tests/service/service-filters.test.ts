// Replication filters end to end, at every entry point of the running service: Harbor's webhooks (a filtered
// push is answered 200, logged with its rule, and makes no job; label rules are decided by the job, since a
// webhook carries no labels), the old tool's manual call, /api/v1/sync with its own narrowing filters and its
// dry run, and the reconcile sweep. A Harbor 2.3 stand-in (serving artifact labels) over a real registry, and a
// real destination registry.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { ImageResult } from '../../src/copy/index.js';
import { startHarbor, type HarborStandIn } from '../harness/harbor/index.js';
import { assertImageComplete, listTags, pushImage, type PushedImage } from '../harness/images.js';
import { startRegistry, type RunningRegistry } from '../harness/registry.js';
import type { ServiceJson } from '../harness/service-json.js';
import { jobsOf, settled, startServiceUnderTest, waitForJobs, type ServiceUnderTest } from '../harness/service.js';

let harbor: HarborStandIn;
let dst: RunningRegistry;
let sut: ServiceUnderTest;
const images: Record<string, PushedImage> = {};

const FILTERS = {
  IncludeRepositories: 'proj:team-a/**',
  IncludeTags: 'proj:{release-*,v*}',
  ExcludeTags: 'proj:*-rc*',
  IncludeLabels: 'pub:prod',
  ExcludeLabels: 'pub:blocked',
};

async function push(repo: string, tag: string): Promise<void> {
  images[`${repo}:${tag}`] = await pushImage(harbor.access, repo, tag, {
    format: 'docker',
    layers: [{ seed: `filters-${repo}-${tag}`, size: 10_000 }],
  });
}

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
  for (const [repo, tag] of [
    ['proj/team-a/app', 'v1.0'],
    ['proj/team-a/app', 'v1.1-rc1'],
    ['proj/team-a/app', 'latest'],
    ['proj/team-b/app', 'v1.0'],
    ['pub/app', 'v1'],
    ['pub/app', 'v2'],
    ['pub/app', 'v3'],
  ])
    await push(repo, tag);
  harbor.addLabel('pub/app', images['pub/app:v1'].digest, 'prod');
  harbor.addLabel('pub/app', images['pub/app:v2'].digest, 'qa');
  // Labelled prod, so IncludeLabels takes it, and blocked, which ExcludeLabels leaves out: Excludes win.
  harbor.addLabel('pub/app', images['pub/app:v3'].digest, 'prod');
  harbor.addLabel('pub/app', images['pub/app:v3'].digest, 'blocked');
  sut = await startServiceUnderTest(harbor.host, dst.host, { ...FILTERS, ReconcileInterval: '0' });
});

afterAll(async () => {
  await sut?.stop();
  await Promise.all([harbor?.stop(), dst?.stop()]);
});

async function webhook(project: string, repository: string, tag: string): Promise<ServiceJson & { http: number }> {
  const { body, contentType } = harbor.webhookPayload('default', {
    project,
    repository,
    tag,
    digest: images[`${project}/${repository}:${tag}`].digest,
  });
  const res = await fetch(`${sut.url}/service/notifications`, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body,
  });
  return { ...((await res.json()) as ServiceJson), http: res.status };
}

async function apiSync(body: object): Promise<{ status: number; json: ServiceJson }> {
  const res = await fetch(`${sut.url}/api/v1/sync`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as ServiceJson };
}

async function finishedJob(project: string, id: string) {
  const jobs = await waitForJobs(sut.url, project, (all) =>
    all.some((j) => j.id === id && !['queued', 'running'].includes(j.state)),
  );
  return jobs.find((j) => j.id === id)!;
}

/** `destination -> reason` of a job's skipped results, for the filtered ones. */
function skips(results: ImageResult[]): Record<string, string | undefined> {
  return Object.fromEntries(
    results.filter((r) => r.skip === 'filtered').map((r) => [r.destination.replace(`${dst.host}/`, ''), r.reason]),
  );
}

describe('webhooks', () => {
  test('a push a rule leaves out is answered 200, logged with the rule in <project>-running.log, and makes no job', async () => {
    const before = (await jobsOf(sut.url, 'proj')).length;
    const rc = await webhook('proj', 'team-a/app', 'v1.1-rc1');
    expect(rc).toMatchObject({ http: 200, accepted: 0, jobs: [] });
    expect(rc.ignored).toEqual([
      `proj/team-a/app:v1.1-rc1 (${images['proj/team-a/app:v1.1-rc1'].digest}) skipped: ExcludeTags proj:*-rc*`,
    ]);
    const otherRepository = await webhook('proj', 'team-b/app', 'v1.0');
    expect(otherRepository).toMatchObject({ http: 200, accepted: 0 });
    expect(otherRepository.ignored![0]).toMatch(/skipped: IncludeRepositories proj:team-a\/\*\*$/);
    const latest = await webhook('proj', 'team-a/app', 'latest');
    expect(latest.ignored![0]).toMatch(/skipped: IncludeTags proj:\{release-\*,v\*\}$/);
    expect(await jobsOf(sut.url, 'proj')).toHaveLength(before);

    const log = await readFile(join(sut.logDir, 'proj-running.log'), 'utf8');
    expect(log).toContain(
      `push of proj/team-a/app:v1.1-rc1 (${images['proj/team-a/app:v1.1-rc1'].digest}) not synced: skipped: ExcludeTags proj:*-rc*`,
    );
    expect(log).toContain('proj/team-b/app:v1.0');
    expect(await listTags(dst, 'mirror/team-b/app')).toEqual([]);
  });

  test('a selected push is copied, and only its selected tags', async () => {
    const answer = await webhook('proj', 'team-a/app', 'v1.0');
    expect(answer).toMatchObject({ http: 200, accepted: 1 });
    const job = await finishedJob('proj', (answer.jobs as string[])[0]);
    expect(job.state).toBe('succeeded');
    await assertImageComplete(dst, 'mirror/team-a/app', 'v1.0');
    expect(await listTags(dst, 'mirror/team-a/app')).toEqual(['v1.0']);
  });

  test("labels are not in a webhook: the job reads the artifact's labels and skips it, naming the rule", async () => {
    const unlabelled = await webhook('pub', 'app', 'v2');
    expect(unlabelled).toMatchObject({ http: 200, accepted: 1 });
    const skipped = await finishedJob('pub', (unlabelled.jobs as string[])[0]);
    expect(skipped).toMatchObject({ state: 'skipped', error: 'skipped: IncludeLabels pub:prod' });
    expect(await listTags(dst, 'public-ns/app')).toEqual([]);
    // Harbor was asked for the labels with the artifact, in the request the job makes anyway.
    expect(
      harbor.requests.some((r) =>
        r.path.includes(`/artifacts/${encodeURIComponent(images['pub/app:v2'].digest)}?with_tag=true&with_label=true`),
      ),
    ).toBe(true);

    const labelled = await webhook('pub', 'app', 'v1');
    const copied = await finishedJob('pub', (labelled.jobs as string[])[0]);
    expect(copied.state).toBe('succeeded');
    expect(await listTags(dst, 'public-ns/app')).toEqual(['v1']);
  });

  test('an artifact with a label ExcludeLabels names is skipped by its job, even with the label IncludeLabels wants', async () => {
    const blocked = await webhook('pub', 'app', 'v3');
    expect(blocked).toMatchObject({ http: 200, accepted: 1 });
    const skipped = await finishedJob('pub', (blocked.jobs as string[])[0]);
    expect(skipped).toMatchObject({ state: 'skipped', error: 'skipped: ExcludeLabels pub:blocked' });
    expect(await listTags(dst, 'public-ns/app')).not.toContain('v3');
  });
});

describe('/api/v1/sync', () => {
  test('a dry run lists what each rule leaves out as "skipped: <rule>", and plans the rest', async () => {
    const { status, json } = await apiSync({ project: 'proj', namespace: 'dry', dryRun: true });
    expect(status).toBe(202);
    const job = await finishedJob('proj', json.jobId!);
    expect(skips(job.results)).toEqual({
      'dry/team-b/app': 'skipped: IncludeRepositories proj:team-a/**',
      'dry/team-a/app:latest': 'skipped: IncludeTags proj:{release-*,v*}',
      'dry/team-a/app:v1.1-rc1': 'skipped: ExcludeTags proj:*-rc*',
    });
    expect(job.results.filter((r) => r.skip !== 'filtered').map((r) => [r.destination, r.skip])).toEqual([
      [`${dst.host}/dry/team-a/app:v1.0`, 'planned'],
    ]);
    expect(job.results.every((r) => r.dryRun)).toBe(true);
    expect(await listTags(dst, 'dry/team-a/app')).toEqual([]);
  });

  test("a request's filters narrow the configured ones and never widen them", async () => {
    const { status, json } = await apiSync({
      project: 'proj',
      namespace: 'narrow',
      dryRun: true,
      filters: { IncludeTags: '**', ExcludeTags: 'v1.0' },
    });
    expect(status).toBe(202);
    const job = await finishedJob('proj', json.jobId!);
    expect(skips(job.results)).toEqual({
      'narrow/team-b/app': 'skipped: IncludeRepositories proj:team-a/**',
      // IncludeTags=** of the request does not bring `latest` back: app.conf's rule still applies.
      'narrow/team-a/app:latest': 'skipped: IncludeTags proj:{release-*,v*}',
      'narrow/team-a/app:v1.1-rc1': 'skipped: ExcludeTags proj:*-rc*',
      'narrow/team-a/app:v1.0': 'skipped: ExcludeTags v1.0 (this request)',
    });
    expect(job.results.every((r) => r.skip === 'filtered')).toBe(true);
  });

  test.each([
    [{ filters: 'v*' }, 'filters must be an object with one pattern per filter key'],
    [{ filters: { Tags: 'v*' } }, 'filters.Tags is not a filter: use IncludeRepositories, ExcludeRepositories'],
    [{ filters: { ExcludeTags: ['a', 'b'] } }, 'filters.ExcludeTags must be one pattern, as a string'],
    [{ filters: { ExcludeTags: '[v' } }, 'filters.ExcludeTags "[v" has a [ without its ]'],
  ])('bad filters are refused with what is wrong: %j', async (extra, message) => {
    const { status, json } = await apiSync({ project: 'proj', ...extra });
    expect(status).toBe(400);
    expect(json.error?.message).toContain(message);
  });

  test('a real sync copies what the rules select, and says in the job what they left out', async () => {
    const { json } = await apiSync({ project: 'proj', namespace: 'real' });
    const job = await finishedJob('proj', json.jobId!);
    expect(job.state).toBe('succeeded');
    expect(Object.keys(skips(job.results)).sort()).toEqual([
      'real/team-a/app:latest',
      'real/team-a/app:v1.1-rc1',
      'real/team-b/app',
    ]);
    expect(await listTags(dst, 'real/team-a/app')).toEqual(['v1.0']);
    expect(await listTags(dst, 'real/team-b/app')).toEqual([]);
    const log = await readFile(join(sut.logDir, 'proj-running.log'), 'utf8');
    expect(log).toContain(`${harbor.host}/proj/team-a/app:v1.1-rc1 not synced: skipped: ExcludeTags proj:*-rc*`);
  });
});

test("the old tool's manual call applies the project's rules", async () => {
  const res = await fetch(`${sut.url}/service/synchronization/namespace`, {
    method: 'POST',
    headers: { Projectname: 'pub', Namespace: 'manual' },
  });
  expect(res.status).toBe(202);
  const job = await finishedJob('pub', ((await res.json()) as ServiceJson).jobId!);
  expect(job.state).toBe('succeeded');
  expect(skips(job.results)).toEqual({
    'manual/app:v2': 'skipped: IncludeLabels pub:prod',
    'manual/app:v3': 'skipped: ExcludeLabels pub:blocked',
  });
  expect(await listTags(dst, 'manual/app')).toEqual(['v1']);
});

test('the reconcile sweep neither compares nor queues what the rules leave out', async () => {
  // Its own service with its own namespaces, so that the copies above do not count as in step.
  const sweeper = await startServiceUnderTest(harbor.host, dst.host, {
    ...FILTERS,
    NamespaceMap: 'proj:sweep;pub:sweep-pub',
    ReconcileInterval: '0',
  });
  try {
    const summary = await sweeper.running.reconcile();
    // Left out: team-b/app (a repository), latest, v1.1-rc1, pub/app:v2 (no prod label), pub/app:v3 (blocked).
    expect(summary).toMatchObject({ tags: 2, missing: 2, filtered: 5, queued: 2, errors: 0 });
    const specs = [...(await jobsOf(sweeper.url, 'proj')), ...(await jobsOf(sweeper.url, 'pub'))].map((j) => j.spec);
    expect(specs).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ project: 'proj', repository: 'team-a/app', tags: ['v1.0'] }),
        expect.objectContaining({ project: 'pub', repository: 'app', tags: ['v1'] }),
      ]),
    );
    expect(specs).toHaveLength(2);
    for (const project of ['proj', 'pub']) await waitForJobs(sweeper.url, project, (jobs) => settled(jobs, 1));
    expect(await listTags(dst, 'sweep/team-a/app')).toEqual(['v1.0']);
    expect(await listTags(dst, 'sweep-pub/app')).toEqual(['v1']);
  } finally {
    await sweeper.stop();
  }
});

test('against Harbor 1.x, which lists no labels, label rules are refused: /readyz and a webhook job name the rule, a request with IncludeLabels is a 400', async () => {
  const old = await startHarbor({ version: '1.10', projects: [{ name: 'proj', public: false }] });
  const image = await pushImage(old.access, 'proj/app', 'v1', {
    format: 'docker',
    layers: [{ seed: 'filters-1.10', size: 8_000 }],
  });
  const labelled = await startServiceUnderTest(old.host, dst.host, {
    IncludeLabels: 'proj:prod',
    NamespaceMap: 'proj:old-ns',
    ReconcileInterval: '0',
  });
  const plain = await startServiceUnderTest(old.host, dst.host, {
    NamespaceMap: 'proj:old-ns',
    ReconcileInterval: '0',
  });
  try {
    const refusal = `IncludeLabels proj:prod needs artifact labels, which only Harbor 2.x's API lists, and http://${old.host} is`;
    const ready = await fetch(`${labelled.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(JSON.stringify(await ready.json())).toContain(refusal);

    const { body, contentType } = old.webhookPayload('default', {
      project: 'proj',
      repository: 'app',
      tag: 'v1',
      digest: image.digest,
    });
    const res = await fetch(`${labelled.url}/service/notifications`, {
      method: 'POST',
      headers: { 'content-type': contentType },
      body,
    });
    const [jobId] = ((await res.json()) as ServiceJson).jobs as string[];
    const [job] = (
      await waitForJobs(labelled.url, 'proj', (jobs) => jobs.some((j) => j.id === jobId && j.state === 'failed'))
    ).filter((j) => j.id === jobId);
    // Permanent: no retry makes Harbor 1.x list labels.
    expect(job.attempts).toBe(1);
    expect(job.error).toContain(refusal);
    expect(await listTags(dst, 'old-ns/app')).toEqual([]);

    const request = await fetch(`${plain.url}/api/v1/sync`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ project: 'proj', filters: { IncludeLabels: 'prod' } }),
    });
    expect(request.status).toBe(400);
    expect(((await request.json()) as ServiceJson).error?.message).toContain(
      "filters.IncludeLabels needs artifact labels, which only Harbor 2.x's API lists",
    );
  } finally {
    await Promise.all([labelled.stop(), plain.stop()]);
    await old.stop();
  }
});

test('a job copies only the tags of the digest that the rules select, whatever the webhook named', async () => {
  await push('proj/team-a/multi', 'v2');
  // Tagged again through Harbor's API (no webhook): the job asks Harbor and finds both tags on the digest.
  await harbor.addTag('proj/team-a/multi', images['proj/team-a/multi:v2'].digest, 'v2-rc1');
  const answer = await webhook('proj', 'team-a/multi', 'v2');
  const job = await finishedJob('proj', (answer.jobs as string[])[0]);
  expect(job.state).toBe('succeeded');
  expect(job.results.map((r) => r.destination)).toEqual([`${dst.host}/mirror/team-a/multi:v2`]);
  expect(await listTags(dst, 'mirror/team-a/multi')).toEqual(['v2']);
  expect(await readFile(join(sut.logDir, 'proj-running.log'), 'utf8')).toContain(
    `proj/team-a/multi:v2-rc1 (${images['proj/team-a/multi:v2'].digest}) not synced: skipped: ExcludeTags proj:*-rc*`,
  );
});
