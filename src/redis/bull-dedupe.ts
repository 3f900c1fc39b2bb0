// The Redis queue's de-duplication mechanics: one key per copy key naming the job that answers it, claimed
// and swapped atomically (Lua) so that replicas racing on one key make one job, a lease lock while tags are
// merged into a queued job, and the key's expiry once the job ends. What counts as a duplicate, and what a
// duplicate becomes, is the job policy's (jobs/policy.ts).
import { createHash, randomUUID } from 'node:crypto';
import type { Job as BullJob, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { answerDuplicate, DUPLICATE_WINDOW_MS, mergeTags } from '../jobs/policy.js';
import type { EnqueueOutcome, Job, JobOutcome, JobSpec } from '../jobs/types.js';
import type { Clock } from '../oci/clock.js';
import { QUEUED_STATES, REDIS_ANSWER_MS, toJob, type JobData } from './bull-jobs.js';
import { SETTLE, SWAP } from './bull-scripts.js';
import { LeaseLocks } from './lock.js';

export class BullDedupe {
  /** Replicas merging tags into one queued job take turns, or one's write would undo another's. */
  private readonly locks: LeaseLocks;

  constructor(
    private readonly queue: Queue<JobData, JobOutcome>,
    private readonly redis: Redis,
    /** Prefix of the keys, one per copy key. */
    private readonly prefix: string,
    private readonly clock: Clock,
  ) {
    this.locks = new LeaseLocks(redis, { redisTimeoutMs: REDIS_ANSWER_MS, clock });
  }

  /** The Redis key naming the job that answers a copy key (hashed: copy keys hold registry names). */
  private keyOf(copyKey: string): string {
    return `${this.prefix}:${createHash('sha256').update(copyKey).digest('hex')}`;
  }

  /** The job that answers `dedupeKey`, joined or made; `add` makes a new job with the id given. */
  async enqueue(spec: JobSpec, dedupeKey: string, add: (id: string) => Promise<Job>): Promise<EnqueueOutcome> {
    const key = this.keyOf(dedupeKey);
    for (let round = 0; round < 20; round++) {
      const id = randomUUID();
      if ((await this.redis.set(key, id, 'NX')) === 'OK') return { job: await add(id), merged: false };
      const holder = await this.redis.get(key);
      if (!holder) continue;
      const existing = await this.waitForJob(holder);
      if (!existing) {
        // The replica that claimed the key died before adding its job: free the key and try again.
        await this.redis.eval(SWAP, 1, key, holder, '');
        continue;
      }
      const state = await existing.getState();
      const answer = answerDuplicate(toJob(existing, state), spec);
      if (answer.join === 'as-is') return { job: toJob(existing, state), merged: true };
      if (answer.join === 'with-tags') {
        const joined = await this.mergeIntoQueued(key, holder, spec);
        if (joined) return { job: joined, merged: true };
      }
      // A new job, if no other replica made one first.
      if (Number(await this.redis.eval(SWAP, 1, key, holder, id)) === 1) return { job: await add(id), merged: false };
    }
    throw new Error(`could not record the job for ${dedupeKey}: the de-duplication key kept changing; try again`);
  }

  /**
   * Adds the request's tags to a queued job, holding a short lock per key. A job that a worker takes meanwhile
   * may have been read without the new tags: then undefined, and the caller makes a new job for them.
   */
  private async mergeIntoQueued(key: string, id: string, spec: JobSpec): Promise<Job | undefined> {
    const lease = await this.locks.acquireWithin(`${key}:merging`, 5000, 5000);
    if (!lease) throw new Error('another replica kept the job busy for 5 s; try again');
    try {
      const fresh = await this.queue.getJob(id);
      if (!fresh || !(QUEUED_STATES as readonly string[]).includes(await fresh.getState())) return undefined;
      const merged = mergeTags(fresh.data.spec, spec);
      if (!merged) return toJob(fresh, 'waiting');
      await fresh.updateData({ ...fresh.data, spec: merged });
      const after = await fresh.getState();
      return (QUEUED_STATES as readonly string[]).includes(after) ? toJob(fresh, after, merged) : undefined;
    } finally {
      await lease.release();
    }
  }

  /** The job behind a de-duplication key; briefly absent while the replica that claimed the key adds it. */
  private async waitForJob(id: string): Promise<BullJob<JobData, JobOutcome> | undefined> {
    for (let i = 0; i < 40; i++) {
      const job = await this.queue.getJob(id);
      if (job) return job;
      await this.clock.sleep(50);
    }
    return undefined;
  }

  /** A job ended: after a success it keeps answering duplicates for the window, after a failure no longer. */
  async settle(bull: BullJob<JobData, JobOutcome>, succeeded: boolean): Promise<void> {
    if (!bull.data.dedupeKey) return;
    await this.redis
      .eval(SETTLE, 1, this.keyOf(bull.data.dedupeKey), bull.id!, succeeded ? String(DUPLICATE_WINDOW_MS) : '0')
      .catch(() => undefined);
  }
}
