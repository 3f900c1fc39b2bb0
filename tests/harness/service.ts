// Owns starting the sync service under test against a Harbor stand-in and a destination registry,
// with temp log and data directories, and waiting for its jobs.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/config.js';
import type { Job } from '../../src/jobs/types.js';
import { startService, type RunningService } from '../../src/main/start.js';
import { freePort } from './ports.js';
import { Redis } from 'ioredis';
import { startRedis, type RunningRedis } from './redis.js';
import { until } from './until.js';

let sharedRedis: Promise<RunningRedis> | undefined;

/** The queue backend the service tests of this jest project run on. */
export const testQueueBackend: 'sqlite' | 'redis' = process.env.TEST_QUEUE_BACKEND === 'redis' ? 'redis' : 'sqlite';

/**
 * The job suites run twice, once per queue backend (jest.config.js: the "redis" project sets
 * TEST_QUEUE_BACKEND). On Redis every service gets a key prefix of its own on one server per test file.
 */
/** Files that hold what the services of this test file stored in Redis (a fresh SAVE), if they use Redis. */
export async function redisSnapshot(): Promise<string[]> {
  if (!sharedRedis) return [];
  const redis = await sharedRedis;
  const client = new Redis(redis.url, { lazyConnect: true });
  try {
    await client.connect();
    await client.save();
  } finally {
    client.disconnect();
  }
  return [join(redis.dir, 'dump.rdb')];
}

async function queueBackendConfig(): Promise<Record<string, string>> {
  if (process.env.TEST_QUEUE_BACKEND !== 'redis') return {};
  sharedRedis ??= startRedis();
  const redis = await sharedRedis;
  // A short lock, so that a job left running by a restart is taken over in seconds, as SQLite resumes it at start.
  return {
    QueueBackend: 'redis',
    RedisURL: redis.url,
    RedisKeyPrefix: `t${Math.random().toString(36).slice(2, 10)}`,
    JobLockSeconds: '5',
  };
}

export interface ServiceUnderTest {
  running: RunningService;
  url: string;
  logDir: string;
  dataDir: string;
  raw: Record<string, string>;
  restart(extra?: Record<string, string>): Promise<void>;
  stop(graceMs?: number): Promise<void>;
}

/** The app.conf values every service test starts from: a Harbor stand-in, a plain destination registry. */
export async function testServiceConfig(
  harborHost: string,
  destinationHost: string,
  logDir: string,
  dataDir: string,
): Promise<Record<string, string>> {
  return {
    ...(await queueBackendConfig()),
    HWAuthMethod: 'AKSK',
    HWAK: 'TESTACCESSKEYVALUE01',
    HWSK: 'test-secret-key-value-0123456789',
    RegionName: 'cn-north-4',
    HarborAddr: harborHost,
    HarborProtocol: 'http',
    HarborUser: 'admin',
    HarborPassword: 'Harbor12345',
    SWRRegistry: destinationHost,
    SWRProtocol: 'http',
    NamespaceMap: 'proj:mirror;pub:public-ns',
    Port: String(await freePort()),
    ListenAddress: '127.0.0.1',
    LogDir: logDir,
    DataDir: dataDir,
    WebhookCoalesceMs: '300',
    // SWR's 20 requests per second is a production default; tests of pacing set it themselves.
    SWRRequestsPerSecond: '0',
    // A plain registry has no SWR management API; the SWR tests turn this on against their stand-in.
    SWRManageNamespaces: 'false',
  };
}

export async function startServiceUnderTest(
  harborHost: string,
  destinationHost: string,
  extra: Record<string, string> = {},
): Promise<ServiceUnderTest> {
  const base = await mkdtemp(join(tmpdir(), 'swr-harbor-sync-service-'));
  const logDir = join(base, 'logs');
  const dataDir = join(base, 'data');
  const raw = { ...(await testServiceConfig(harborHost, destinationHost, logDir, dataDir)), ...extra };
  const sut: ServiceUnderTest = {
    running: await startService(parseConfig(raw), { console: false }),
    url: '',
    logDir,
    dataDir,
    raw,
    async restart(more = {}) {
      await sut.running.close(0);
      // The new service listens on the same port. Give this process's fetch pool a moment to see the old
      // server's connections close, or its next request may go out on one of them ("other side closed").
      // Kept: the pool (undici's global dispatcher) tells no one when it has dropped a closed socket.
      await new Promise((r) => setTimeout(r, 100));
      Object.assign(raw, more);
      sut.running = await startService(parseConfig(raw), { console: false });
      sut.url = sut.running.url;
    },
    async stop(graceMs = 0) {
      await sut.running.close(graceMs);
      await rm(base, { recursive: true, force: true });
    },
  };
  sut.url = sut.running.url;
  return sut;
}

export async function jobsOf(url: string, project: string): Promise<Job[]> {
  const res = await fetch(`${url}/api/v1/jobs?project=${project}`);
  return ((await res.json()) as { jobs: Job[] }).jobs;
}

/** Polls until `done` holds for the project's jobs or the deadline passes (then fails with what it saw). */
export async function waitForJobs(
  url: string,
  project: string,
  done: (jobs: Job[]) => boolean,
  timeoutMs = 30_000,
): Promise<Job[]> {
  let jobs: Job[] = [];
  return until(
    `jobs of ${project} to settle`,
    async () => {
      jobs = await jobsOf(url, project);
      return done(jobs) ? jobs : undefined;
    },
    timeoutMs,
  ).catch((error: Error) => {
    if (!/^timed out waiting/.test(error.message)) throw error;
    throw new Error(
      `jobs of ${project} did not settle: ${JSON.stringify(jobs.map((j) => ({ id: j.id, state: j.state, error: j.error, spec: j.spec })))}`,
    );
  });
}

/** Waits until an image job of `project` has succeeded or failed, and gives the project's (first) image job. */
export async function endedImageJob(url: string, project: string): Promise<Job> {
  const jobs = await waitForJobs(url, project, (all) =>
    all.some((j) => j.spec.kind === 'image' && (j.state === 'succeeded' || j.state === 'failed')),
  );
  return jobs.find((j) => j.spec.kind === 'image')!;
}

/**
 * Waits until every image job of `repository`@`digest` has ended, one at least successfully. A test that deletes
 * in Harbor next needs it: the tag is recorded as the service's only after its manifest is written, and a second
 * tag's push may make a second job, which, still running when Harbor deletes the image, deletes what it copied
 * itself (sync/deleted-meanwhile.ts) beside the event's delete job that the test reads.
 */
export function imageJobsSettled(url: string, project: string, repository: string, digest: string): Promise<Job[]> {
  return waitForJobs(url, project, (all) => {
    const mine = all.filter(
      (j) => j.spec.kind === 'image' && j.spec.repository === repository && j.spec.digest === digest,
    );
    return (
      mine.some((j) => j.state === 'succeeded' || j.state === 'skipped') &&
      mine.every((j) => j.state !== 'queued' && j.state !== 'running')
    );
  });
}

export const settled = (jobs: Job[], count: number) =>
  jobs.length >= count && jobs.every((j) => j.state !== 'queued' && j.state !== 'running');
