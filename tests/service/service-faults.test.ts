// Process-level faults of the service: `serve` killed with SIGKILL half way through a project sync, stopped
// with SIGTERM (grace for running copies, refusal of new requests, resume at the next start), a destination
// registry that is down for a while, and a job store that cannot be written.
import { readdir, stat } from 'node:fs/promises';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import Database from 'better-sqlite3';
import type { Job } from '../../src/jobs/types.js';
import type { SqliteQueue } from '../../src/sqlite/queue.js';
import { startHarbor, type HarborStandIn } from '../harness/harbor/index.js';
import { assertImageComplete, getManifest, listTags, pushImage } from '../harness/images.js';
import { startRegistry, type RunningRegistry } from '../harness/registry.js';
import { plainRequest, startServeProcess, type ServeProcess } from '../harness/serve-process.js';
import { jobsOf, startServiceUnderTest, waitForJobs, type ServiceUnderTest } from '../harness/service.js';
import { until } from '../harness/until.js';

type JobView = Job & { progress?: { imagesDone: number; imagesTotal: number; bytesUploaded: number } };

let harbor: HarborStandIn;

beforeAll(async () => {
  harbor = await startHarbor({
    projects: [
      { name: 'proj', public: false },
      { name: 'pub', public: true },
    ],
  });
});

afterAll(async () => {
  await harbor?.stop();
});

// ---------------------------------------------------------------------------------------------------------
// Helpers

/**
 * A TCP relay that passes what clients send at a limited rate (shared by all connections) and answers at
 * full speed: blob uploads take seconds, so a kill lands with some blobs done and others half received.
 */
interface Throttle {
  host: string;
  setRate(bytesPerSecond: number): void;
  stop(): Promise<void>;
}

async function startThrottle(targetHost: string, bytesPerSecond: number): Promise<Throttle> {
  const [host, port] = targetHost.split(':') as [string, string];
  let rate = bytesPerSecond;
  let nextFree = Date.now();
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(port), host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    }
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    upstream.pipe(client);
    let chain = Promise.resolve();
    client.on('data', (chunk: Buffer) => {
      client.pause();
      chain = chain.then(async () => {
        for (let i = 0; i < chunk.length; i += 16_384) {
          const piece = chunk.subarray(i, i + 16_384);
          if (Number.isFinite(rate)) {
            const now = Date.now();
            const start = Math.max(now, nextFree);
            nextFree = start + (piece.length * 1000) / rate;
            if (nextFree - now >= 1) await new Promise((r) => setTimeout(r, nextFree - now));
          }
          if (upstream.destroyed) return;
          upstream.write(piece);
        }
        client.resume();
      });
    });
    client.on('end', () => void chain.then(() => upstream.end()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('throttle has no TCP address');
  return {
    host: `127.0.0.1:${address.port}`,
    setRate: (r) => {
      rate = r;
      nextFree = Date.now();
    },
    stop: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function filesUnder(dir: string, name: string): Promise<Array<{ path: string; size: number }>> {
  const out: Array<{ path: string; size: number }> = [];
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true, recursive: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!e.isFile() || e.name !== name) continue;
    const path = join(e.parentPath, e.name);
    try {
      out.push({ path, size: (await stat(path)).size });
    } catch {
      // finished (moved) meanwhile
    }
  }
  return out;
}

/** Blobs the destination registry holds in full (its content-addressed store). */
async function storedBlobs(registry: RunningRegistry): Promise<number> {
  return (await filesUnder(join(registry.storageDir, 'docker/registry/v2/blobs'), 'data')).length;
}

/** Uploads the destination registry has started and not completed, with the bytes it has received of each. */
async function openUploads(registry: RunningRegistry): Promise<Array<{ path: string; size: number }>> {
  return (await filesUnder(join(registry.storageDir, 'docker/registry/v2/repositories'), 'data')).filter((f) =>
    f.path.includes('/_uploads/'),
  );
}

/** The job as recorded on disk, read while no service runs. */
function recordedJob(
  dataDir: string,
  id: string,
): { state: string; attempts: number; error: string | null } | undefined {
  const db = new Database(join(dataDir, 'jobs.sqlite'), { readonly: true });
  try {
    return db.prepare('SELECT state, attempts, error FROM jobs WHERE id = ?').get(id) as
      { state: string; attempts: number; error: string | null } | undefined;
  } finally {
    db.close();
  }
}

async function startSync(url: string, project: string): Promise<string> {
  const res = await plainRequest(`${url}/api/v1/sync`, 'POST', JSON.stringify({ project }));
  expect(res.status).toBe(202);
  return (JSON.parse(res.body) as { jobId: string }).jobId;
}

async function jobById(url: string, project: string, id: string): Promise<JobView | undefined> {
  return (await jobsOf(url, project)).find((j) => j.id === id);
}

async function pushProjectImages(prefix: string, count: number, layerSize: number): Promise<string[]> {
  const repos = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  for (const repo of repos) {
    await pushImage(harbor.access, `proj/${repo}`, 'v1', {
      format: 'oci',
      layers: [
        { seed: `${repo}-a`, size: layerSize },
        { seed: `${repo}-b`, size: layerSize },
      ],
    });
  }
  return repos;
}

/** Every tag at the destination is the source's tag at the source's digest, and every blob is there. */
async function expectMirrored(dst: RunningRegistry, repos: string[]): Promise<void> {
  for (const repo of repos) {
    expect(await listTags(dst, `mirror/${repo}`)).toEqual(await listTags(harbor.registry, `proj/${repo}`));
    for (const tag of await listTags(harbor.registry, `proj/${repo}`)) {
      expect((await getManifest(dst, `mirror/${repo}`, tag))?.digest).toBe(
        (await getManifest(harbor.registry, `proj/${repo}`, tag))!.digest,
      );
      await assertImageComplete(dst, `mirror/${repo}`, tag);
    }
  }
}

const finalState = (j: Job | undefined) =>
  j !== undefined && (j.state === 'succeeded' || j.state === 'failed' || j.state === 'skipped');

// ---------------------------------------------------------------------------------------------------------

describe('serve as a child process', () => {
  let dst: RunningRegistry;
  let throttle: Throttle;
  let serve: ServeProcess | undefined;

  beforeAll(async () => {
    dst = await startRegistry();
    throttle = await startThrottle(dst.host, 3_000_000);
  });

  afterAll(async () => {
    await serve?.stop();
    await throttle?.stop();
    await dst?.stop();
  });

  test('SIGKILL half way through a project sync: the next start on the same DataDir resumes the job and completes every image', async () => {
    const repos = await pushProjectImages('kill', 6, 3_000_000);
    throttle.setRate(3_000_000);
    serve = await startServeProcess(harbor.host, throttle.host, { MaxConcurrentJobs: '1', ShutdownGraceSeconds: '30' });
    const earlier = new Set((await openUploads(dst)).map((u) => u.path));
    const jobId = await startSync(serve.url, 'proj');

    // Running, some blobs complete at the destination and at least one upload half received.
    await until('the job to run with blobs done and one half sent', async () => {
      const job = await jobById(serve!.url, 'proj', jobId);
      if (job?.state !== 'running') return undefined;
      const half = (await openUploads(dst)).filter((u) => !earlier.has(u.path) && u.size > 0 && u.size < 3_000_000);
      return (await storedBlobs(dst)) >= 2 && half.length > 0 ? true : undefined;
    });
    const blobsBefore = await storedBlobs(dst);
    serve.kill('SIGKILL');
    expect(await serve.exited()).toEqual({ code: null, signal: 'SIGKILL' });
    // The job is not done (some blobs were still missing) and its record survived the kill.
    expect(blobsBefore).toBeLessThan(6 * 3);
    expect(recordedJob(serve.dataDir, jobId)).toMatchObject({ state: 'running', attempts: 1 });

    throttle.setRate(Infinity);
    await serve.start();
    const job = await until(
      'the resumed job to finish',
      async () => {
        const j = await jobById(serve!.url, 'proj', jobId);
        return finalState(j) ? j : undefined;
      },
      60_000,
    );
    expect(job.state).toBe('succeeded');
    expect(job.attempts).toBe(2);
    expect(job.results).toHaveLength(6);
    expect(job.results.every((r) => r.status === 'copied')).toBe(true);
    await expectMirrored(dst, repos);
    expect(serve.output()).toMatch(/resuming 1 job/);
    serve.kill('SIGTERM');
    expect((await serve.exited()).code).toBe(0);
    await serve.stop();
    serve = undefined;
  }, 120_000);

  test('SIGTERM: a running job gets the grace period to finish, queued jobs stay recorded, new requests are refused, exit 0', async () => {
    const repos = await pushProjectImages('term', 3, 1_000_000);
    // 6 MB at 2 MB/s: about 3 s of copying, well inside a 30 s grace period.
    throttle.setRate(2_000_000);
    serve = await startServeProcess(harbor.host, throttle.host, { MaxConcurrentJobs: '1', ShutdownGraceSeconds: '30' });
    const running = await startSync(serve.url, 'proj');
    await until('the first job to upload', async () => {
      const job = await jobById(serve!.url, 'proj', running);
      return job?.state === 'running' && (job.progress?.bytesUploaded ?? 0) + (await storedBlobs(dst)) > 0
        ? true
        : undefined;
    });
    // One job at a time: this one waits in the queue.
    const queued = await startSync(serve.url, 'pub');
    expect((await jobById(serve.url, 'pub', queued))?.state).toBe('queued');

    const signalled = Date.now();
    serve.kill('SIGTERM');
    await until(
      'the service to refuse new work',
      async () => {
        const probe = await plainRequest(`${serve!.url}/healthz`, 'GET');
        return probe.status === 503 || probe.error === 'ECONNREFUSED' ? true : undefined;
      },
      10_000,
    );
    expect(serve.child.exitCode).toBeNull(); // still finishing the running job
    const during = await plainRequest(`${serve.url}/api/v1/sync`, 'POST', JSON.stringify({ project: 'proj' }));
    expect(during.status === 503 || during.error === 'ECONNREFUSED').toBe(true);
    const health = await plainRequest(`${serve.url}/healthz`, 'GET');
    expect(health.status === 503 || health.error === 'ECONNREFUSED').toBe(true);

    expect(await serve.exited()).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalled).toBeLessThan(30_000);
    expect(recordedJob(serve.dataDir, running)).toMatchObject({ state: 'succeeded', attempts: 1 });
    expect(recordedJob(serve.dataDir, queued)).toMatchObject({ state: 'queued', attempts: 0 });
    await expectMirrored(dst, repos);

    // The next start runs what was left.
    throttle.setRate(Infinity);
    await serve.start();
    const job = await until('the queued job to run after the restart', async () => {
      const j = await jobById(serve!.url, 'pub', queued);
      return finalState(j) ? j : undefined;
    });
    expect(job.state === 'succeeded' || job.state === 'skipped').toBe(true);
    serve.kill('SIGTERM');
    expect((await serve.exited()).code).toBe(0);
    await serve.stop();
    serve = undefined;
  }, 120_000);

  test('SIGTERM with a job longer than the grace period: exit 0 once the grace is over, the job stays recorded and resumes at the next start', async () => {
    const repos = await pushProjectImages('grace', 4, 2_000_000);
    // 16 MB at 2 MB/s cannot finish in 2 s of grace; one blob at a time (2 MB, about 1 s) surely does, so that
    // copies going on during the grace period are seen whatever the machine's load. (With 8 at a time sharing
    // 1 MB/s, none finished within the grace on a loaded CI run.)
    throttle.setRate(2_000_000);
    // No retries: a job cut short by the stop must not be recorded as a failed attempt (nor fail for good).
    serve = await startServeProcess(harbor.host, throttle.host, {
      MaxConcurrentJobs: '1',
      MaxBlobTransfers: '1',
      ShutdownGraceSeconds: '2',
      JobRetries: '0',
    });
    const earlier = new Set((await openUploads(dst)).map((u) => u.path)); // left by the SIGKILL test
    const jobId = await startSync(serve.url, 'proj');
    await until('the job to upload', async () => {
      const job = await jobById(serve!.url, 'proj', jobId);
      return job?.state === 'running' && (await openUploads(dst)).some((u) => u.size > 0 && !earlier.has(u.path))
        ? true
        : undefined;
    });
    const blobsAtSignal = await storedBlobs(dst);
    const signalled = Date.now();
    serve.kill('SIGTERM');
    // Just after the grace period the destination speeds up: the uploads still open end while the service
    // closes its clients, and the job's next requests fail on the closed clients. That is the stop, not a
    // failure of the job: it must not be recorded as one.
    const speedUp = setTimeout(() => throttle.setRate(Infinity), 2_300);
    const exit = await serve.exited();
    clearTimeout(speedUp);
    expect(exit).toEqual({ code: 0, signal: null });
    const took = Date.now() - signalled;
    // It waited for the running copies (the grace period), and not much longer.
    expect(took).toBeGreaterThanOrEqual(1_900);
    expect(took).toBeLessThan(10_000);
    // Copies went on during the grace period.
    expect(await storedBlobs(dst)).toBeGreaterThan(blobsAtSignal);
    const recorded = recordedJob(serve.dataDir, jobId);
    expect(recorded?.state === 'running' || recorded?.state === 'queued').toBe(true);
    expect(recorded?.attempts).toBe(1);

    throttle.setRate(Infinity);
    await serve.start();
    const job = await until(
      'the resumed job to finish',
      async () => {
        const j = await jobById(serve!.url, 'proj', jobId);
        return finalState(j) ? j : undefined;
      },
      60_000,
    );
    expect(job.state).toBe('succeeded');
    expect(job.attempts).toBe(2);
    await expectMirrored(dst, repos);
    serve.kill('SIGTERM');
    expect((await serve.exited()).code).toBe(0);
    await serve.stop();
    serve = undefined;
  }, 120_000);
});

describe('destination registry down for a while', () => {
  let dst: RunningRegistry;
  let serve: ServeProcess | undefined;

  beforeAll(async () => {
    dst = await startRegistry();
  });

  afterAll(async () => {
    await serve?.stop();
    await dst?.stop();
  });

  test('the webhook job retries with backoff while the destination is down and finishes once it is back; nothing succeeds early', async () => {
    serve = await startServeProcess(harbor.host, dst.host, { JobRetries: '5' });
    const image = await pushImage(harbor.access, 'proj/outage/app', 'v1', {
      format: 'docker',
      layers: [
        { seed: 'outage-a', size: 500_000 },
        { seed: 'outage-b', size: 200_000 },
      ],
    });
    await dst.down();
    try {
      const payload = harbor.webhookPayload('default', {
        project: 'proj',
        repository: 'outage/app',
        digest: image.digest,
        tag: 'v1',
      });
      const hook = await plainRequest(`${serve.url}/service/notifications`, 'POST', payload.body, {
        'content-type': payload.contentType,
      });
      expect(hook.status).toBe(200);
      const jobId = (JSON.parse(hook.body) as { jobs: string[] }).jobs[0];
      const seen: string[] = [];
      const watch = (j: JobView | undefined) => {
        if (j) seen.push(j.state);
        return j;
      };
      // The first attempt failed and a retry is scheduled (backoff): queued again, with the error recorded.
      const waiting = await until(
        'the first failed attempt',
        async () => {
          const j = watch(await jobById(serve!.url, 'proj', jobId));
          return j && j.state === 'queued' && j.attempts === 1 && j.error ? j : undefined;
        },
        30_000,
      );
      expect(waiting.error).toMatch(/ECONNREFUSED|reachable/);
      expect(waiting.results.map((r) => r.status)).toEqual(['failed']);
      expect(new Date(waiting.notBefore).getTime()).toBeGreaterThan(Date.now());
      expect(serve.output()).toMatch(/failed \(attempt 1\), retrying in \d+ s/);
      // The retry runs (the destination is still down).
      await until(
        'the second attempt',
        async () => {
          const j = watch(await jobById(serve!.url, 'proj', jobId));
          return j && j.attempts >= 2 ? j : undefined;
        },
        30_000,
      );
      expect(seen).not.toContain('succeeded');
      expect(seen).not.toContain('failed');
      expect(seen).toContain('running');
    } finally {
      await dst.up();
    }
    const jobs = await waitForJobs(
      serve.url,
      'proj',
      (all) => all.some((j) => j.spec.kind === 'image' && j.spec.repository === 'outage/app' && finalState(j)),
      40_000,
    );
    const job = jobs.find((j) => j.spec.kind === 'image' && j.spec.repository === 'outage/app')!;
    expect(job.state).toBe('succeeded');
    expect(job.attempts).toBeGreaterThanOrEqual(2);
    expect(job.results[0]).toMatchObject({ status: 'copied', destinationDigest: image.digest });
    expect((await getManifest(dst, 'mirror/outage/app', 'v1'))?.digest).toBe(image.digest);
    await assertImageComplete(dst, 'mirror/outage/app', 'v1');
    serve.kill('SIGTERM');
    expect((await serve.exited()).code).toBe(0);
  }, 90_000);
});

describe('a job store that cannot be written', () => {
  let dst: RunningRegistry;
  let sut: ServiceUnderTest;

  beforeAll(async () => {
    dst = await startRegistry();
    sut = await startServiceUnderTest(harbor.host, dst.host);
  });

  afterAll(async () => {
    await sut?.stop();
    await dst?.stop();
  });

  // The store's own database handle, as a disk gone read-only would leave it: reads work, every write fails
  // with SQLITE_READONLY. (Tests run as root, so file modes cannot stop writes; query_only is SQLite's own
  // read-only switch on the connection the service writes through.)
  const storeDb = () => (sut.running.service.queue as SqliteQueue).store.db;

  test('the webhook answers 503 and records nothing; the resent event is accepted once the store is back', async () => {
    const image = await pushImage(harbor.access, 'proj/readonly/app', 'v1', {
      format: 'oci',
      layers: [{ seed: 'readonly', size: 50_000 }],
    });
    const tagged = harbor.webhookPayload('default', {
      project: 'proj',
      repository: 'readonly/app',
      digest: image.digest,
      tag: 'v1',
    });
    const untagged = harbor.webhookPayload('default', {
      project: 'proj',
      repository: 'readonly/app',
      digest: image.digest,
    });
    const countRows = () =>
      storeDb().prepare('SELECT (SELECT COUNT(*) FROM jobs) + (SELECT COUNT(*) FROM pending_pushes) AS n').get() as {
        n: number;
      };
    const before = countRows().n;

    storeDb().pragma('query_only = ON');
    try {
      for (const payload of [tagged, untagged]) {
        const res = await fetch(`${sut.url}/service/notifications`, {
          method: 'POST',
          headers: { 'content-type': payload.contentType },
          body: payload.body,
        });
        expect(res.status).toBe(503);
        expect(((await res.json()) as { error: { code: string } }).error.code).toBe('STORE_UNAVAILABLE');
      }
      // The manual sync is refused too, not answered 2xx with a job that does not exist.
      const sync = await fetch(`${sut.url}/api/v1/sync`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ project: 'proj' }),
      });
      expect(sync.status).toBeGreaterThanOrEqual(500);
      expect(countRows().n).toBe(before);
    } finally {
      storeDb().pragma('query_only = OFF');
    }
    expect(countRows().n).toBe(before);
    expect(
      (await jobsOf(sut.url, 'proj')).filter((j) => j.spec.kind === 'image' && j.spec.repository === 'readonly/app'),
    ).toEqual([]);

    // Harbor sends the event again: now it is recorded and synced.
    const again = await fetch(`${sut.url}/service/notifications`, {
      method: 'POST',
      headers: { 'content-type': tagged.contentType },
      body: tagged.body,
    });
    expect(again.status).toBe(200);
    await waitForJobs(sut.url, 'proj', (all) =>
      all.some((j) => j.spec.kind === 'image' && j.spec.repository === 'readonly/app' && j.state === 'succeeded'),
    );
    await assertImageComplete(dst, 'mirror/readonly/app', 'v1');
  }, 60_000);
});
