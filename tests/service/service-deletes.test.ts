// Deletions end to end (SyncDeletes, ReconcileDeletes) against a real destination registry and the Harbor
// stand-in, which fires DELETE_ARTIFACT (Default and CloudEvents) when an artifact is deleted through its API as
// Harbor 2.x does: the tags the service wrote go, tags it did not write stay (with a warning), a registry that
// refuses deletes gets a clear error, the sweep deletes what Harbor lost without an event, and with both keys off
// nothing is deleted.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { Job } from '../../src/jobs/types.js';
import { distributionEnvelope, startHarbor, type HarborStandIn } from '../harness/harbor/index.js';
import { getManifest, listTags, pushImage } from '../harness/images.js';
import { call, describe as describeReply } from '../harness/registry-http.js';
import { startRegistry, type RunningRegistry } from '../harness/registry.js';
import {
  endedImageJob,
  imageJobsSettled,
  jobsOf,
  startServiceUnderTest,
  waitForJobs,
  type ServiceUnderTest,
} from '../harness/service.js';
import { until } from '../harness/until.js';
import { startFaultProxy, type FaultProxy } from '../harness/fault-proxy.js';
import { runCli } from '../harness/cli.js';

const ADMIN = { authorization: `Basic ${Buffer.from('admin:Harbor12345').toString('base64')}` };
const MAPPED = 'proj:mirror;cloud:cloud-ns;reg:reg-ns;swept:swept-ns;dry:dry-ns;off:off-ns';
const DELETES = { SyncDeletes: 'true', ReconcileDeletes: 'true', ReconcileInterval: '0', NamespaceMap: MAPPED };

let harbor: HarborStandIn;
let dst: RunningRegistry;
let sut: ServiceUnderTest;

beforeAll(async () => {
  [harbor, dst] = await Promise.all([
    startHarbor({
      projects: ['proj', 'cloud', 'reg', 'swept', 'dry', 'off', 'ro', 'race', 'undo', 'again'].map((name) => ({
        name,
        public: false,
      })),
    }),
    startRegistry(),
  ]);
  sut = await startServiceUnderTest(harbor.host, dst.host, DELETES);
  await hook('proj', 'Default', sut.url);
  await hook('cloud', 'CloudEvents', sut.url);
  await hook('swept', 'Default', sut.url);
  await hook('dry', 'Default', sut.url);
  await hook('off', 'Default', sut.url);
});

afterAll(async () => {
  await sut?.stop();
  await Promise.all([harbor?.stop(), dst?.stop()]);
});

/** A project webhook policy for pushes and deletions, as a Harbor admin would make it. */
async function hook(project: string, format: 'Default' | 'CloudEvents', service: string): Promise<void> {
  const res = await fetch(`${harbor.url}/api/v2.0/projects/${project}/webhook/policies`, {
    method: 'POST',
    headers: { ...ADMIN, 'content-type': 'application/json' },
    body: JSON.stringify({
      name: `sync-${project}`,
      enabled: true,
      event_types: ['PUSH_ARTIFACT', 'DELETE_ARTIFACT'],
      targets: [{ type: 'http', address: `${service}/service/notifications`, payload_format: format }],
    }),
  });
  expect(res.status).toBe(201);
}

/** Pushes through Harbor (its webhook fires) and waits for every tag to be at the destination. */
async function pushedAndSynced(
  project: string,
  repo: string,
  tags: string[],
  namespace: string,
  destination = dst,
  service: ServiceUnderTest = sut,
): Promise<string> {
  let digest = '';
  for (const tag of tags) {
    const image = await pushImage(harbor.access, `${project}/${repo}`, tag, {
      format: 'docker',
      layers: [{ seed: `deletes-${project}-${repo}`, size: 4_000 }],
    });
    digest = image.digest;
  }
  // Read back by tag, not only listed: a tag shows in the listing a moment before its link is written.
  await until(`${namespace}/${repo} to hold ${tags.join(', ')}`, async () => {
    const found = await Promise.all(tags.map((t) => getManifest(destination, `${namespace}/${repo}`, t)));
    return found.every((m) => m?.digest === digest) ? true : undefined;
  });
  await imageJobsSettled(service.url, project, repo, digest);
  return digest;
}

/** Harbor's API: DELETE /projects/{p}/repositories/{r}/artifacts/{reference} (fires DELETE_ARTIFACT). */
async function deleteInHarbor(project: string, repo: string, reference: string): Promise<void> {
  const res = await fetch(`${harbor.url}/api/v2.0/projects/${project}/repositories/${repo}/artifacts/${reference}`, {
    method: 'DELETE',
    headers: ADMIN,
  });
  expect(res.status).toBe(200);
}

function deleteJobsSettled(url: string, project: string, repo: string): Promise<Job[]> {
  return waitForJobs(url, project, (all) =>
    all.some(
      (j) => j.spec.kind === 'delete' && j.spec.repository === repo && j.state !== 'queued' && j.state !== 'running',
    ),
  ).then((all) => all.filter((j) => j.spec.kind === 'delete' && j.spec.repository === repo));
}

async function putTag(registry: RunningRegistry, repository: string, from: string, tag: string): Promise<void> {
  const manifest = (await getManifest(registry, repository, from))!;
  const res = await call(registry, {
    method: 'PUT',
    path: `/v2/${repository}/manifests/${tag}`,
    headers: { 'content-type': manifest.mediaType },
    body: () => manifest.body,
  });
  if (res.status !== 201) throw new Error(`tag ${tag}: ${describeReply(res)}`);
}

const log = (name: string, service: ServiceUnderTest = sut) =>
  readFile(join(service.logDir, name), 'utf8').catch(() => '');

describe('each delete event format deletes the tags the service wrote for that digest', () => {
  test('Harbor 2.x DELETE_ARTIFACT (Default) names one tag; both tags the service wrote on the digest go', async () => {
    const digest = await pushedAndSynced('proj', 'app', ['v1', 'stable'], 'mirror');
    await deleteInHarbor('proj', 'app', digest);

    const [job] = await deleteJobsSettled(sut.url, 'proj', 'app');
    expect(job).toMatchObject({ state: 'succeeded', spec: { digest, tags: ['stable'], trigger: 'event' } });
    expect(job.results.map((r) => [r.destination, r.status])).toEqual([
      [`${dst.host}/mirror/app:stable`, 'deleted'],
      [`${dst.host}/mirror/app:v1`, 'deleted'],
    ]);
    expect(harbor.webhookDeliveries.find((d) => d.eventType === 'DELETE_ARTIFACT')).toMatchObject({
      repository: 'proj/app',
      tag: 'stable',
      status: 200,
    });
    expect((await listTags(dst, 'mirror/app')) ?? []).toEqual([]);
    expect(await getManifest(dst, 'mirror/app', digest)).toBeUndefined();
    const success = await log('proj-success.log');
    for (const tag of ['v1', 'stable'])
      expect(success).toContain(`deleted ${harbor.host}/proj/app:${tag} -> ${dst.host}/mirror/app:${tag} ${digest}`);
    // Visible as copies are: the metrics and the status page's data.
    const metrics = await (await fetch(`${sut.url}/metrics`)).text();
    expect(metrics).toMatch(/^swr_harbor_sync_tags_deleted_total\{outcome="deleted"\} 2$/m);
    expect(metrics).toMatch(/^swr_harbor_sync_job_duration_seconds_count\{kind="delete",outcome="succeeded"\} 1$/m);
    const status = (await (await fetch(`${sut.url}/api/v1/status`)).json()) as {
      jobs: Array<{ id: string; images: Record<string, number> }>;
    };
    expect(status.jobs.find((j) => j.id === job.id)?.images).toMatchObject({ deleted: 2 });
  });

  test('Harbor 2.x harbor.artifact.deleted (CloudEvents)', async () => {
    const digest = await pushedAndSynced('cloud', 'api', ['1.0'], 'cloud-ns');
    await deleteInHarbor('cloud', 'api', '1.0');
    const [job] = await deleteJobsSettled(sut.url, 'cloud', 'api');
    expect(job).toMatchObject({ state: 'succeeded', spec: { digest, tags: ['1.0'] } });
    expect(
      harbor.webhookDeliveries.find((d) => d.repository === 'cloud/api' && d.eventType === 'DELETE_ARTIFACT'),
    ).toMatchObject({ status: 200 });
    expect((await listTags(dst, 'cloud-ns/api')) ?? []).toEqual([]);
  });

  test("a registry notification envelope's manifest delete (Harbor 1.x's registry), which names only the digest", async () => {
    const image = await pushImage(harbor.registry, 'reg/web', 'v2', {
      format: 'docker',
      layers: [{ seed: 'deletes-reg-web', size: 4_000 }],
    });
    const push = distributionEnvelope(
      [{ action: 'push', repository: 'reg/web', digest: image.digest, tag: 'v2', mediaType: image.mediaType, size: 1 }],
      'v1',
    );
    expect((await post(push.body, push.contentType)).status).toBe(200);
    await until('reg-ns/web:v2 at the destination', async () =>
      ((await listTags(dst, 'reg-ns/web')) ?? []).includes('v2') ? true : undefined,
    );
    // And its job done: the tag is recorded as the service's after the manifest is written, so a delete event
    // that came between the two would find nothing of the service's to delete (seen once under load).
    await waitForJobs(sut.url, 'reg', (all) =>
      all.some((j) => j.spec.kind === 'image' && j.spec.repository === 'web' && j.state === 'succeeded'),
    );
    // Harbor 1.x deletes through its registry, which then sends the delete: the manifest by digest only.
    const removed = await call(harbor.registry, { method: 'DELETE', path: `/v2/reg/web/manifests/${image.digest}` });
    expect(removed.status).toBe(202);
    const envelope = distributionEnvelope(
      [{ action: 'delete', repository: 'reg/web', digest: image.digest, mediaType: '', size: 0 }],
      'v1',
    );
    const answer = await post(envelope.body, envelope.contentType);
    expect(answer).toMatchObject({ status: 200, json: { accepted: 1 } });
    const [job] = await deleteJobsSettled(sut.url, 'reg', 'web');
    expect(job).toMatchObject({ state: 'succeeded', spec: { digest: image.digest, tags: [] } });
    expect((await listTags(dst, 'reg-ns/web')) ?? []).toEqual([]);
  });
});

async function post(body: string, contentType: string) {
  const res = await fetch(`${sut.url}/service/notifications`, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body,
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe('only what the service itself put there', () => {
  test('a manifest DELETE would also take a tag the service did not write: nothing deleted, the tag named', async () => {
    const digest = await pushedAndSynced('proj', 'shared', ['v1'], 'mirror');
    await putTag(dst, 'mirror/shared', 'v1', 'theirs');
    await deleteInHarbor('proj', 'shared', digest);

    const [job] = await deleteJobsSettled(sut.url, 'proj', 'shared');
    expect(job.state).toBe('skipped');
    expect(job.results).toEqual([
      expect.objectContaining({
        status: 'skipped',
        reason: expect.stringContaining(`theirs is on ${digest} too without being this service's to delete`),
      }),
    ]);
    expect(((await listTags(dst, 'mirror/shared')) ?? []).sort()).toEqual(['theirs', 'v1']);
    expect(await log('proj-running.log')).toMatch(/mirror\/shared:v1 not deleted: .* theirs is on sha256:/);
  });

  test('a delete event for a digest Harbor has again (late, or repeated after a new push): its tags are kept', async () => {
    const digest = await pushedAndSynced('proj', 'again', ['v1'], 'mirror');
    const body = JSON.stringify({
      type: 'DELETE_ARTIFACT',
      occur_at: Math.floor(Date.now() / 1000),
      operator: 'admin',
      event_data: {
        resources: [{ digest, tag: 'v1', resource_url: `${harbor.host}/proj/again:v1` }],
        repository: { name: 'again', namespace: 'proj', repo_full_name: 'proj/again', repo_type: 'private' },
      },
    });
    expect((await post(body, 'application/json')).json).toMatchObject({ accepted: 1 });
    const [job] = await deleteJobsSettled(sut.url, 'proj', 'again');
    expect(job.state).toBe('skipped');
    expect(job.results[0]).toMatchObject({ status: 'skipped', reason: 'Harbor has this tag at this digest again' });
    expect((await getManifest(dst, 'mirror/again', 'v1'))?.digest).toBe(digest);
  });

  test('a tag someone else has written since points at another digest: left alone with a warning', async () => {
    const digest = await pushedAndSynced('proj', 'moved', ['v1'], 'mirror');
    const other = await pushImage(dst, 'mirror/moved', 'v1', {
      format: 'docker',
      layers: [{ seed: 'deletes-someone-else', size: 3_000 }],
    });
    await deleteInHarbor('proj', 'moved', digest);

    const [job] = await deleteJobsSettled(sut.url, 'proj', 'moved');
    expect(job.state).toBe('skipped');
    expect(job.results[0]).toMatchObject({
      status: 'skipped',
      reason: `left alone: points at ${other.digest}, not at ${digest} which this service wrote`,
    });
    expect((await getManifest(dst, 'mirror/moved', 'v1'))?.digest).toBe(other.digest);
    expect(await log('proj-running.log')).toContain(
      `${dst.host}/mirror/moved:v1 left alone: it points at ${other.digest}`,
    );
  });
});

test('the sweep (ReconcileDeletes=true) deletes what the service wrote and Harbor no longer has, without an event', async () => {
  const digest = await pushedAndSynced('swept', 'tool', ['v1', 'v2'], 'swept-ns');
  const kept = await pushImage(harbor.access, 'swept/tool', 'v3', {
    format: 'docker',
    layers: [{ seed: 'deletes-swept-kept', size: 3_000 }],
  });
  await until('swept-ns/tool:v3', async () =>
    ((await listTags(dst, 'swept-ns/tool')) ?? []).includes('v3') ? true : undefined,
  );
  // Gone from Harbor's registry behind its back: Harbor fires no webhook for that.
  expect((await call(harbor.registry, { method: 'DELETE', path: `/v2/swept/tool/manifests/${digest}` })).status).toBe(
    202,
  );
  const summary = await sut.running.reconcile();
  expect(summary?.deletes).toBeGreaterThanOrEqual(1);
  const [job] = await deleteJobsSettled(sut.url, 'swept', 'tool');
  expect(job).toMatchObject({ state: 'succeeded', spec: { trigger: 'reconcile', digest, tags: ['v1', 'v2'] } });
  expect((await listTags(dst, 'swept-ns/tool')) ?? []).toEqual(['v3']);
  expect((await getManifest(dst, 'swept-ns/tool', 'v3'))?.digest).toBe(kept.digest);
  expect(await log('swept-success.log')).toContain(
    `deleted ${harbor.host}/swept/tool:v1 -> ${dst.host}/swept-ns/tool:v1`,
  );
});

test("dry runs (the API's dryRun, `sync --dry-run`) list the deletions the sweep would make, and delete nothing", async () => {
  const gone = await pushedAndSynced('dry', 'tool', ['v1'], 'dry-ns');
  await pushedAndSynced('dry', 'other', ['v2'], 'dry-ns');
  expect((await call(harbor.registry, { method: 'DELETE', path: `/v2/dry/tool/manifests/${gone}` })).status).toBe(202);

  const queued = await fetch(`${sut.url}/api/v1/sync`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ project: 'dry', dryRun: true }),
  });
  expect(queued.status).toBe(202);
  const { jobId } = (await queued.json()) as { jobId: string };
  const jobs = await waitForJobs(sut.url, 'dry', (all) => all.some((j) => j.id === jobId && j.state === 'succeeded'));
  const planned = jobs.find((j) => j.id === jobId)!.results.filter((r) => r.skip === 'planned-delete');
  expect(planned).toEqual([
    expect.objectContaining({
      destination: `${dst.host}/dry-ns/tool:v1`,
      reason: 'would be deleted: written by this service, no longer in Harbor (ReconcileDeletes=true)',
      dryRun: true,
      sourceDigest: gone,
    }),
  ]);

  const conf = join(sut.dataDir, '..', 'app.conf');
  await writeFile(
    conf,
    `${Object.entries(sut.raw)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n')}\n`,
  );
  const run = await runCli(['sync', '--project', 'dry', '--dry-run'], { CONFIG_FILE: conf });
  expect(run.code).toBe(0);
  expect(run.stdout).toContain(
    `plan    ${dst.host}/dry-ns/tool:v1: would be deleted: written by this service, no longer in Harbor (ReconcileDeletes=true)`,
  );
  expect(run.stdout).toMatch(/; 1 would be deleted; /);
  expect(await listTags(dst, 'dry-ns/tool')).toEqual(['v1']);
  expect((await jobsOf(sut.url, 'dry')).filter((j) => j.spec.kind === 'delete')).toEqual([]);
});

test('a destination registry that refuses deletes (405): the job fails at once, saying what to change', async () => {
  const readOnly = await startRegistry({ extraConfig: { storage: { delete: { enabled: false } } } });
  const other = await startServiceUnderTest(harbor.host, readOnly.host, { ...DELETES, NamespaceMap: 'ro:ro-ns' });
  try {
    await hook('ro', 'Default', other.url);
    const digest = await pushedAndSynced('ro', 'app', ['v1'], 'ro-ns', readOnly, other);
    await deleteInHarbor('ro', 'app', digest);
    const [job] = await deleteJobsSettled(other.url, 'ro', 'app');
    expect(job).toMatchObject({ state: 'failed', attempts: 1 });
    expect(job.error).toContain(`${readOnly.host} refuses to delete manifests (405 UNSUPPORTED`);
    expect(job.error).toContain('storage.delete.enabled: true');
    expect(job.error).toContain('or set SyncDeletes=false');
    expect(await listTags(readOnly, 'ro-ns/app')).toEqual(['v1']);
  } finally {
    await other.stop();
    await readOnly.stop();
  }
});

/**
 * A service writing to `dst` through a proxy that holds the manifest PUT of `project`/`repository`:v1 for 2 s,
 * while Harbor deletes the image. Runs `check` with the deleted image's digest and the service, then stops both.
 */
async function deletedDuringCopy(
  project: string,
  repository: string,
  check: (digest: string, service: ServiceUnderTest, proxy: FaultProxy) => Promise<void>,
): Promise<void> {
  const slow = await startFaultProxy(dst.url);
  const other = await startServiceUnderTest(harbor.host, slow.host, { ...DELETES, NamespaceMap: `${project}:race-ns` });
  try {
    await hook(project, 'Default', other.url);
    const held = new RegExp(`^/v2/race-ns/${repository}/manifests/v1$`);
    slow.inject({ method: 'PUT', path: held, fault: { delayMs: 2_000 } });
    const image = await pushImage(harbor.access, `${project}/${repository}`, 'v1', {
      format: 'docker',
      layers: [{ seed: `deletes-${project}-${repository}`, size: 4_000 }],
    });
    await until('the manifest PUT held at the destination', async () =>
      slow.requests.some((r) => r.method === 'PUT' && r.faulted === 'delay') ? true : undefined,
    );
    await deleteInHarbor(project, repository, image.digest);
    await check(image.digest, other, slow);
  } finally {
    await other.stop();
    await slow.stop();
  }
}

test('an image deleted in Harbor while it is being copied: the job deletes what it wrote once it has written it', async () => {
  // Harbor deletes the image while its manifest PUT is held, and the delete event finds nothing recorded as the
  // service's (the job records after writing), so the event alone would leave the tag.
  await deletedDuringCopy('race', 'app', async (digest, other) => {
    const job = await endedImageJob(other.url, 'race');
    expect(job).toMatchObject({ state: 'succeeded' });
    expect(job.results.map((r) => r.status)).toEqual(['copied', 'deleted']);
    expect((await listTags(dst, 'race-ns/app')) ?? []).toEqual([]);
    expect(await log('race-running.log', other)).toContain(
      `race/app@${digest} was deleted in Harbor while it was being synced: deleting what this job wrote`,
    );
    // The event itself was ignored: no record yet when it came.
    expect(await log('running.log', other)).toContain(`delete of race/app@${digest} in Harbor ignored`);
  });
});

/** The destination answers every manifest DELETE under race-ns/app with 503 until the job's first attempt gives up. */
async function deletesFailUntilFirstAttemptGivesUp(
  project: string,
  service: ServiceUnderTest,
  proxy: FaultProxy,
): Promise<void> {
  proxy.inject({ method: 'DELETE', path: /^\/v2\/race-ns\/app\/manifests\//, times: Infinity, fault: { status: 503 } });
  await until(
    'the first attempt to give up on the deletion',
    async () =>
      (await log(`${project}-running.log`, service)).includes("the job's next attempt deletes it") ? true : undefined,
    30_000,
  );
}

test("the deletion after such a copy fails: the job's next attempt deletes what it wrote", async () => {
  await deletedDuringCopy('undo', 'app', async (digest, other, proxy) => {
    await deletesFailUntilFirstAttemptGivesUp('undo', other, proxy);
    proxy.clear();
    const job = await endedImageJob(other.url, 'undo');
    expect(job).toMatchObject({ state: 'succeeded', attempts: 2 });
    expect(job.results.map((r) => r.status)).toEqual(['deleted']);
    expect((await listTags(dst, 'race-ns/app')) ?? []).toEqual([]);
    expect(await log('undo-running.log', other)).toContain(
      `undo/app@${digest} was deleted in Harbor while it was being synced: deleting what this job wrote, which its previous attempt could not`,
    );
    expect(proxy.requests.filter((r) => r.method === 'DELETE' && r.faulted === 'status').length).toBeGreaterThan(0);
  });
}, 60_000);

test('the image pushed again under another tag while the undo waits for its retry: that attempt deletes, then copies the new tag', async () => {
  await deletedDuringCopy('again', 'app', async (digest, other, proxy) => {
    await deletesFailUntilFirstAttemptGivesUp('again', other, proxy);
    // The same image pushed again as v2 while the job waits for its retry: the push joins the queued job.
    const image = await pushImage(harbor.access, 'again/app', 'v2', {
      format: 'docker',
      layers: [{ seed: 'deletes-again-app', size: 4_000 }],
    });
    expect(image.digest).toBe(digest);
    // Joined to the job while it waits for its retry (5 s after the first attempt), not a job of its own.
    await waitForJobs(other.url, 'again', (all) =>
      all.some((j) => j.spec.kind === 'image' && j.spec.tags.includes('v1') && j.spec.tags.includes('v2')),
    );
    proxy.clear();
    await until(
      'v2 at the destination',
      async () => ((await getManifest(dst, 'race-ns/app', 'v2'))?.digest === digest ? true : undefined),
      30_000,
    );
    const jobs = await waitForJobs(other.url, 'again', (all) =>
      all.filter((j) => j.spec.kind === 'image').every((j) => j.state === 'succeeded' || j.state === 'failed'),
    );
    const images = jobs.filter((j) => j.spec.kind === 'image');
    expect(images.map((j) => j.state)).toEqual(['succeeded']);
    expect(images[0].results.map((r) => `${r.status} ${r.destination.replace(/^.*\//, '')}`)).toEqual([
      'deleted app:v1',
      'copied app:v2',
    ]);
    expect(await listTags(dst, 'race-ns/app')).toEqual(['v2']);
  });
}, 60_000);

test('SyncDeletes=false and ReconcileDeletes=false (the defaults): a deletion in Harbor leaves the destination as it is', async () => {
  await sut.restart({ SyncDeletes: 'false', ReconcileDeletes: 'false' });
  const digest = await pushedAndSynced('off', 'app', ['v1'], 'off-ns');
  const before = harbor.webhookDeliveries.length;
  await deleteInHarbor('off', 'app', digest);
  const delivery = await until('the DELETE_ARTIFACT delivery', async () =>
    harbor.webhookDeliveries
      .slice(before)
      .find((d) => d.repository === 'off/app' && d.eventType === 'DELETE_ARTIFACT' && d.status !== 0),
  );
  expect(delivery.status).toBe(200);
  const summary = await sut.running.reconcile();
  expect(summary?.deletes).toBe(0);
  expect((await jobsOf(sut.url, 'off')).filter((j) => j.spec.kind === 'delete')).toEqual([]);
  expect(await listTags(dst, 'off-ns/app')).toEqual(['v1']);
  expect(await log('running.log')).toContain(
    `delete of off/app@${digest} in Harbor ignored: SyncDeletes=false (deletions in Harbor are not passed on)`,
  );
});
