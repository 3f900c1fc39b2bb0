// Readiness and registry activity judged on a fake clock: what counts as "answered recently", and what
// /readyz says about it, without waiting or reaching a registry.
import { describe, expect, test } from '@jest/globals';
import { Readiness } from '../../src/health/readiness.js';
import { RegistryActivity } from '../../src/health/registry-activity.js';
import { FakeClock } from '../harness/fake-clock.js';

const fakeClock = () => new FakeClock(1_000_000);

describe('RegistryActivity', () => {
  test('an answer counts for the window, and not a millisecond longer', () => {
    const clock = fakeClock();
    const activity = new RegistryActivity(clock);
    expect(activity.answeredRecently('h', 1000)).toBe(false);
    activity.answered('h');
    clock.advance(1000);
    expect(activity.answeredRecently('h', 1000)).toBe(true);
    clock.advance(1);
    expect(activity.answeredRecently('h', 1000)).toBe(false);
  });

  test('a failure after an answer outweighs it until the next answer', () => {
    const clock = fakeClock();
    const activity = new RegistryActivity(clock);
    activity.answered('h');
    clock.advance(10);
    activity.failed('h', 'h answered GET with HTTP 503');
    expect(activity.answeredRecently('h', 60_000)).toBe(false);
    expect(activity.get('h')).toEqual({
      answeredAt: 1_000_000,
      failedAt: 1_000_010,
      failure: 'h answered GET with HTTP 503',
    });
    activity.answered('h');
    expect(activity.answeredRecently('h', 60_000)).toBe(true);
    expect(activity.get('h')).toEqual({ answeredAt: 1_000_010 });
  });
});

describe('Readiness', () => {
  const registries = [{ name: 'harbor', endpoint: { host: 'harbor.invalid', insecure: true }, action: 'fix Harbor' }];

  test('a registry heard from recently is ready without a ping, and the report says how long ago', async () => {
    const clock = fakeClock();
    const activity = new RegistryActivity(clock);
    activity.answered('harbor.invalid');
    clock.advance(42_000);
    const readiness = new Readiness({
      probeStore: async () => undefined,
      storeAction: 'fix the store',
      configSource: 'app.conf',
      registries,
      activity,
      clock,
    });
    const report = await readiness.check();
    expect(report.ready).toBe(true);
    expect(report.checks.harbor).toEqual({ ok: true, message: 'harbor.invalid answered 42 s ago' });
    expect(report.checks.config).toEqual({ ok: true, message: 'loaded from app.conf and valid' });
  });

  test('a store that refuses a write fails the store check with its action; an added check joins its registry check', async () => {
    const clock = fakeClock();
    const activity = new RegistryActivity(clock);
    activity.answered('harbor.invalid');
    const readiness = new Readiness({
      probeStore: async () => Promise.reject(new Error('disk full')),
      storeAction: 'free the disk',
      configSource: 'env',
      registries,
      activity,
      clock,
    });
    readiness.addCheck('harbor', async () => ({
      ok: false,
      message: 'no Harbor API answers',
      action: 'set HarborAPI',
    }));
    const report = await readiness.check();
    expect(report.ready).toBe(false);
    expect(report.checks.store).toEqual({
      ok: false,
      message: 'the job store cannot be written: disk full',
      action: 'free the disk',
    });
    expect(report.checks.harbor).toEqual({ ok: false, message: 'no Harbor API answers', action: 'set HarborAPI' });
  });

  test('the store is written at most once per window however often /readyz is asked; probes meanwhile share it', async () => {
    const clock = fakeClock();
    const activity = new RegistryActivity(clock);
    activity.answered('harbor.invalid');
    let writes = 0;
    const readiness = new Readiness({
      probeStore: async () => {
        writes++;
      },
      storeAction: 'fix the store',
      configSource: 'app.conf',
      registries,
      activity,
      clock,
      storeCacheMs: 5_000,
    });
    await Promise.all(Array.from({ length: 20 }, () => readiness.check()));
    for (let i = 0; i < 30; i++) {
      expect((await readiness.check()).checks.store).toEqual({ ok: true, message: 'the job store takes writes' });
      clock.advance(100);
    }
    // 3 s of probes, 50 in all: one write.
    expect(writes).toBe(1);
    clock.advance(2_000);
    await readiness.check();
    expect(writes).toBe(2);
  });

  test('a store that failed is written again after the window, and the check turns ready', async () => {
    const clock = fakeClock();
    const activity = new RegistryActivity(clock);
    activity.answered('harbor.invalid');
    let broken = true;
    const readiness = new Readiness({
      probeStore: async () => {
        if (broken) throw new Error('disk full');
      },
      storeAction: 'free the disk',
      configSource: 'app.conf',
      registries,
      activity,
      clock,
      storeCacheMs: 5_000,
    });
    expect((await readiness.check()).ready).toBe(false);
    broken = false;
    clock.advance(4_999);
    expect((await readiness.check()).ready).toBe(false);
    clock.advance(1);
    expect((await readiness.check()).ready).toBe(true);
  });
});
