// The in-process job runner with a fake clock and a store in memory: a failed attempt is put back for the time
// the retry policy says (and not claimed before the clock gets there), a permanent failure ends the job at once,
// the log gets one line per attempt's end, and a stop waits for running jobs only as long as its grace period,
// then aborts their signals; a job failing of its own while the stop waits is recorded as any failure.
import { expect, test } from '@jest/globals';
import type winston from 'winston';
import { ImageTally } from '../../src/copy/index.js';
import { JobRunner } from '../../src/jobs/runner.js';
import type { ImageJobSpec, Job, JobHandler, JobState, JobStore } from '../../src/jobs/types.js';
import { FakeClock } from '../harness/fake-clock.js';
import { until } from '../harness/until.js';

class MemoryStore implements JobStore {
  readonly jobs: Job[] = [];
  /** How often the runner asked for a job: a poll that found nothing counts too. */
  asked = 0;
  add(repository: string): Job {
    const spec: ImageJobSpec = {
      kind: 'image',
      project: 'p',
      repository,
      digest: 'sha256:x',
      tags: ['v1'],
      namespace: 'ns',
    };
    const at = new Date(0).toISOString();
    const job: Job = {
      id: repository,
      kind: 'image',
      state: 'queued',
      project: 'p',
      spec,
      attempts: 0,
      createdAt: at,
      updatedAt: at,
      notBefore: at,
      results: [],
    };
    this.jobs.push(job);
    return job;
  }
  claimNext(now: Date): Job | undefined {
    this.asked++;
    const job = this.jobs.find((j) => j.state === 'queued' && Date.parse(j.notBefore) <= now.getTime());
    if (!job) return undefined;
    Object.assign(job, { state: 'running', attempts: job.attempts + 1 });
    return { ...job };
  }
  finish(id: string, state: Exclude<JobState, 'queued' | 'running'>, _results: unknown[], error?: string): void {
    Object.assign(this.find(id), { state, error });
  }
  retryLater(id: string, notBefore: Date, results: unknown[], error: string): void {
    Object.assign(this.find(id), { state: 'queued', notBefore: notBefore.toISOString(), error, results });
  }
  requeueRunning(): number {
    return 0;
  }
  find(id: string): Job {
    return this.jobs.find((j) => j.id === id)!;
  }
}

function recordingLog(): { log: winston.Logger; lines: string[] } {
  const lines: string[] = [];
  const write = (level: string) => (message: string) => lines.push(`${level} ${message}`);
  return {
    log: { info: write('info'), warn: write('warn'), error: write('error') } as unknown as winston.Logger,
    lines,
  };
}

const waitFor = (what: string, ok: () => boolean) => until(what, async () => (ok() ? true : undefined), 5000, 5);

test("a failed attempt waits for the policy's delay on the clock, then succeeds; a permanent failure ends at once", async () => {
  const clock = new FakeClock();
  const store = new MemoryStore();
  const { log, lines } = recordingLog();
  const settled: string[] = [];
  let calls = 0;
  const handler: JobHandler = async (job) => {
    if ((job.spec as ImageJobSpec).repository === 'permanent')
      throw Object.assign(new Error('owned by another account'), { permanent: true });
    if (++calls === 1) throw new Error('destination 503');
    return { results: [] };
  };
  const runner = new JobRunner(
    store,
    handler,
    { concurrency: 2, retries: 3, pollMs: 5, backoffBaseMs: 60_000, clock, onSettled: (id) => settled.push(id) },
    log,
  );
  store.add('transient');
  store.add('permanent');
  runner.start();

  await waitFor('the permanent failure', () => store.find('permanent').state === 'failed');
  await waitFor('the first attempt put back', () => store.find('transient').error === 'destination 503');
  expect(store.find('transient')).toMatchObject({
    state: 'queued',
    attempts: 1,
    notBefore: new Date(clock.now() + 60_000).toISOString(),
  });
  expect(store.find('permanent')).toMatchObject({ attempts: 1, error: 'owned by another account' });

  // Several polls go by: not due yet on the clock, so not claimed.
  const asked = store.asked;
  await waitFor('three more polls', () => store.asked >= asked + 3);
  expect(store.find('transient')).toMatchObject({ state: 'queued', attempts: 1 });
  clock.advance(60_000);
  await waitFor('the retry to succeed', () => store.find('transient').state === 'succeeded');
  expect(store.find('transient').attempts).toBe(2);
  expect(settled.sort()).toEqual(['permanent', 'transient']);
  expect(lines.filter((l) => !l.startsWith('info started'))).toEqual(
    expect.arrayContaining([
      'error failed after 1 attempts: owned by another account',
      'warn failed (attempt 1), retrying in 60 s: destination 503',
      'info succeeded: 0 image(s)',
    ]),
  );
  await runner.stop(0);
});

test('a stop waits for a running job until the grace period has passed on the clock, then aborts its signal; the job is not failed', async () => {
  const clock = new FakeClock();
  const store = new MemoryStore();
  const { log, lines } = recordingLog();
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let signal: AbortSignal | undefined;
  const runner = new JobRunner(
    store,
    async (_job, _progress, s) => ((signal = s), await held, { results: [] }),
    { concurrency: 1, retries: 0, pollMs: 5, clock },
    log,
  );
  store.add('slow');
  runner.start();
  await waitFor('the job running', () => runner.busy === 1);

  let left: number | undefined;
  const stopped = runner.stop(10_000).then((n) => (left = n));
  clock.advance(9_999);
  await new Promise(setImmediate);
  expect(left).toBeUndefined();
  expect(signal!.aborted).toBe(false);
  clock.advance(1);
  await stopped;
  expect(left).toBe(1);
  expect(signal!.aborted).toBe(true);
  expect(store.find('slow').state).toBe('running');
  release();
  await waitFor('the job to end', () => runner.busy === 0);
  expect(lines.some((l) => l.startsWith('error'))).toBe(false);
});

test("a job's own failure while a stop waits for it is recorded with its results, for the next attempt", async () => {
  // Not cut off by the stop (its signal never aborted): the results may hold a deletion still to make, which only
  // a recorded attempt passes on (sync/deleted-meanwhile.ts).
  const clock = new FakeClock();
  const store = new MemoryStore();
  const { log } = recordingLog();
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const failed = new ImageTally().result({
    source: 'harbor/p/app@sha256:x',
    destination: 'swr/ns/app',
    status: 'failed',
    reason: 'deleting what this job wrote failed: 503',
    undoPending: true,
  });
  let signal: AbortSignal | undefined;
  const runner = new JobRunner(
    store,
    async (_job, _progress, s) => ((signal = s), await held, { results: [failed] }),
    { concurrency: 1, retries: 3, pollMs: 5, backoffBaseMs: 60_000, clock },
    log,
  );
  store.add('own');
  runner.start();
  await waitFor('the job running', () => runner.busy === 1);
  const stopped = runner.stop(10_000);
  release();
  expect(await stopped).toBe(0);
  expect(signal!.aborted).toBe(false);
  expect(store.find('own')).toMatchObject({ state: 'queued', attempts: 1, results: [failed] });
});
