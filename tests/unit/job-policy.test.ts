// The job rules (jobs/policy.ts) on their own: verdicts, permanence, retry delays and the retry decision,
// tag merging, the duplicate window and what a duplicate becomes. Pure functions: no store, no timers.
import { describe, expect, test } from '@jest/globals';
import type { ImageResult } from '../../src/copy/index.js';
import {
  answerDuplicate,
  answersDuplicates,
  describeJob,
  DUPLICATE_WINDOW_MS,
  duplicateWindowStart,
  isPermanent,
  jobRetryPolicy,
  judge,
  judgeError,
  mergeTags,
  retryDelay,
} from '../../src/jobs/policy.js';
import type { ImageJobSpec, Job, JobSpec, ProjectJobSpec } from '../../src/jobs/types.js';

const result = (status: ImageResult['status'], extra: Partial<ImageResult> = {}): ImageResult => ({
  source: 's',
  destination: 'd',
  status,
  platforms: [],
  bytesUploaded: 0,
  blobsUploaded: 0,
  blobsMounted: 0,
  blobsSkipped: 0,
  manifestsPushed: 0,
  referrersCopied: 0,
  retries: 0,
  durationMs: 0,
  ...extra,
});
const image = (tags: string[]): ImageJobSpec => ({
  kind: 'image',
  project: 'p',
  repository: 'app',
  digest: 'sha256:x',
  tags,
  namespace: 'ns',
});
const project: ProjectJobSpec = { kind: 'project', project: 'p', namespace: 'ns' };

describe('the verdict', () => {
  test('no failed image: succeeded, or skipped with its reason', () => {
    expect(judge({ results: [result('copied'), result('skipped')] })).toEqual({ state: 'succeeded' });
    expect(judge({ results: [], skipped: 'no tag' })).toEqual({ state: 'skipped', reason: 'no tag' });
  });

  test('any failed image fails the attempt, with the count and the first reason', () => {
    const verdict = judge({
      results: [
        result('copied'),
        result('failed', { reason: 'boom', errorCode: 'BLOB_UNKNOWN' }),
        result('failed', { reason: 'later' }),
      ],
      skipped: 'ignored',
    });
    expect(verdict).toEqual({ state: 'failed', reason: '2 of 3 images failed: boom', permanent: false });
  });

  test('permanent only when every failed image has a permanent code', () => {
    expect(
      judge({
        results: [result('failed', { errorCode: 'NAME_INVALID' }), result('failed', { errorCode: 'DIGEST_MISMATCH' })],
      }),
    ).toMatchObject({ permanent: true });
    expect(
      judge({
        results: [result('failed', { errorCode: 'NAME_INVALID' }), result('failed', { errorCode: 'UNAUTHORIZED' })],
      }),
    ).toMatchObject({ permanent: false });
    expect(judge({ results: [result('failed', { errorCode: 'PLATFORM_NOT_FOUND' }), result('failed')] })).toMatchObject(
      { permanent: false },
    );
  });

  test('a thrown error fails the attempt; permanent when marked so', () => {
    expect(judgeError(new Error('503'))).toEqual({ state: 'failed', reason: '503', permanent: false });
    expect(judgeError(Object.assign(new Error('owned by another account'), { permanent: true }))).toEqual({
      state: 'failed',
      reason: 'owned by another account',
      permanent: true,
    });
    expect(isPermanent(undefined)).toBe(false);
    expect(isPermanent({ permanent: 'yes' })).toBe(false);
  });

  test('a peer speaking the other protocol (TLS_MISMATCH) is permanent, thrown or in an image result', () => {
    const mismatch = Object.assign(new Error('speaks plain HTTP, not HTTPS'), { code: 'TLS_MISMATCH' });
    expect(judgeError(mismatch)).toMatchObject({ permanent: true });
    expect(judge({ results: [result('failed', { errorCode: 'TLS_MISMATCH' })] })).toMatchObject({ permanent: true });
    expect(isPermanent(Object.assign(new Error('reset'), { code: 'NETWORK' }))).toBe(false);
  });
});

describe('retries', () => {
  test('the delay doubles from the base and is capped', () => {
    expect([1, 2, 3, 4].map((n) => retryDelay(n))).toEqual([5000, 10_000, 20_000, 40_000]);
    expect(retryDelay(20)).toBe(600_000);
    expect([1, 2, 3].map((n) => retryDelay(n, 50, 120))).toEqual([50, 100, 120]);
  });

  test('the policy retries until `retries` attempts after the first have failed, and gives up at once on a permanent failure', () => {
    const policy = jobRetryPolicy({ retries: 2, backoffBaseMs: 100, backoffMaxMs: 1000 });
    const transient = { state: 'failed' as const, reason: 'x', permanent: false };
    expect(policy.decide(1, transient)).toEqual({ retry: true, delayMs: 100 });
    expect(policy.decide(2, transient)).toEqual({ retry: true, delayMs: 200 });
    expect(policy.decide(3, transient)).toEqual({ retry: false, reason: 'failed after 3 attempts' });
    expect(policy.decide(1, { ...transient, permanent: true })).toMatchObject({ retry: false });
    expect(jobRetryPolicy({ retries: 0 }).decide(1, transient)).toMatchObject({ retry: false });
  });
});

describe('duplicates', () => {
  const now = Date.parse('2030-01-01T12:00:00.000Z');
  const ago = (ms: number) => new Date(now - ms).toISOString();

  test('a job answers duplicates while queued or running, and for the window after it succeeded', () => {
    expect(answersDuplicates({ state: 'queued' }, now)).toBe(true);
    expect(answersDuplicates({ state: 'running' }, now)).toBe(true);
    expect(answersDuplicates({ state: 'succeeded', finishedAt: ago(DUPLICATE_WINDOW_MS - 1) }, now)).toBe(true);
    expect(answersDuplicates({ state: 'succeeded', finishedAt: ago(DUPLICATE_WINDOW_MS) }, now)).toBe(false);
    expect(answersDuplicates({ state: 'failed', finishedAt: ago(1000) }, now)).toBe(false);
    expect(answersDuplicates({ state: 'skipped', finishedAt: ago(1000) }, now)).toBe(false);
    expect(duplicateWindowStart(now)).toBe(now - 10 * 60 * 1000);
  });

  test('tags merge: only new ones are added, in order; nothing new or a project job gives undefined', () => {
    expect(mergeTags(image(['a', 'b']), image(['b', 'c', 'd']))).toEqual(image(['a', 'b', 'c', 'd']));
    expect(mergeTags(image(['a', 'b']), image(['b']))).toBeUndefined();
    expect(mergeTags(project, project)).toBeUndefined();
    expect(mergeTags(image(['a']), project as JobSpec)).toBeUndefined();
  });

  test('what a duplicate becomes: the same job, the queued job with the new tags, or a new job', () => {
    expect(answerDuplicate({ state: 'running', spec: image(['a']) }, image(['a']))).toEqual({ join: 'as-is' });
    expect(answerDuplicate({ state: 'succeeded', spec: image(['a', 'b']) }, image(['b']))).toEqual({ join: 'as-is' });
    expect(answerDuplicate({ state: 'queued', spec: image(['a']) }, image(['b']))).toEqual({
      join: 'with-tags',
      spec: image(['a', 'b']),
    });
    expect(answerDuplicate({ state: 'running', spec: image(['a']) }, image(['b']))).toEqual({ join: 'no' });
    expect(answerDuplicate({ state: 'succeeded', spec: image(['a']) }, image(['b']))).toEqual({ join: 'no' });
    expect(answerDuplicate({ state: 'failed', spec: image(['a']) }, image(['a']))).toEqual({ join: 'no' });
  });
});

test('a job is described by what it copies where', () => {
  const job = (spec: JobSpec) => ({ spec }) as Job;
  expect(describeJob(job(image(['a'])))).toBe('image p/app@sha256:x -> ns');
  expect(describeJob(job(project))).toBe('project p -> ns');
  expect(describeJob(job({ ...project, dryRun: true }))).toBe('project p -> ns (dry run)');
});
