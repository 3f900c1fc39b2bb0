// MaxBandwidth on a fake clock: the byte bucket's arithmetic (burst, refill, debt), its order among waiters, the
// stream throttle's backpressure and cancellation, and how a bandwidth is written in app.conf and on the CLI.
import { describe, expect, test } from '@jest/globals';
import { parseBandwidth } from '../../src/config/bandwidth.js';
import { CONFIG_KEYS } from '../../src/config/keys.js';
import { keyReader } from '../../src/config/read-keys.js';
import { burstFor, ByteBucket, throttled } from '../../src/copy/index.js';
import { FakeClock } from '../harness/fake-clock.js';

/** Lets every promise that can settle now settle. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('the byte bucket', () => {
  test('a full burst goes at once; past it each byte waits for its share of the rate', async () => {
    const clock = new FakeClock();
    const bucket = new ByteBucket(1000, clock, 500);
    await bucket.take(500);
    expect(bucket.stats).toEqual({ grantedBytes: 500, waits: 0, waitedMs: 0 });

    let done = false;
    const second = bucket.take(1000).then(() => (done = true));
    await settle();
    expect(clock.sleeping).toBe(1);
    clock.advance(999);
    await settle();
    expect(done).toBe(false);
    clock.advance(1);
    await second;
    expect(bucket.stats).toEqual({ grantedBytes: 1500, waits: 1, waitedMs: 1000 });
  });

  test('an idle bucket fills up to its burst and no further', async () => {
    const clock = new FakeClock();
    const bucket = new ByteBucket(1000, clock, 500);
    await bucket.take(500);
    clock.advance(60_000);
    expect(bucket.reserve(500)).toBe(0);
    expect(bucket.reserve(100)).toBe(100);
  });

  test('a chunk larger than the burst still goes, and the debt it leaves is paid before the next', () => {
    const clock = new FakeClock();
    const bucket = new ByteBucket(1000, clock, 100);
    expect(bucket.reserve(100)).toBe(0);
    expect(bucket.reserve(2000)).toBe(2000);
    expect(bucket.reserve(100)).toBe(2100);
    clock.advance(2100);
    expect(bucket.reserve(1)).toBe(1);
  });

  test('the default burst is a tenth of a second of the rate, at least 64 KiB', () => {
    expect(burstFor(10_000_000)).toBe(1_000_000);
    expect(burstFor(100_000)).toBe(65_536);
    expect(new ByteBucket(10_000_000).burst).toBe(1_000_000);
    expect(() => new ByteBucket(0)).toThrow(/rate above 0/);
  });
});

describe('the stream throttle', () => {
  async function* chunks(name: string, count: number, size: number, pulled: { n: number }) {
    for (let i = 0; i < count; i++) {
      pulled.n++;
      yield Buffer.alloc(size, name);
    }
  }

  test('concurrent transfers take turns: each chunk waits behind the other transfer’s chunk already waiting', async () => {
    const clock = new FakeClock();
    const bucket = new ByteBucket(1000, clock, 100);
    const order: string[] = [];
    const drain = async (name: string) => {
      for await (const chunk of throttled(chunks(name, 5, 100, { n: 0 }), bucket)) order.push(chunk.toString()[0]);
    };
    const both = Promise.all([drain('a'), drain('b')]);
    for (let i = 0; i < 20 && order.length < 10; i++) {
      await settle();
      clock.advance(100);
    }
    await both;
    expect(order.join('')).toBe('ababababab');
    // 1000 bytes at 1000 B/s with a burst of 100: nine of the ten chunks waited for their share.
    expect(bucket.stats).toMatchObject({ grantedBytes: 1000, waits: 9 });
  });

  test('a wait holds back reading: the source is not read ahead while a chunk waits for its grant', async () => {
    const clock = new FakeClock();
    const bucket = new ByteBucket(1000, clock, 100);
    const pulled = { n: 0 };
    const stream = throttled(chunks('x', 50, 100, pulled), bucket);
    await stream.next();
    const second = stream.next();
    await settle();
    expect(clock.sleeping).toBe(1);
    expect(pulled.n).toBe(2);
    clock.advance(100);
    await second;
    expect(pulled.n).toBe(2);
    await stream.return(undefined);
  });

  test('cancelling the run ends the wait at once with its reason, and the waiting bytes are not counted', async () => {
    const clock = new FakeClock();
    const bucket = new ByteBucket(1000, clock, 100);
    const stop = new AbortController();
    const stream = throttled(chunks('x', 50, 100, { n: 0 }), bucket, stop.signal);
    await stream.next();
    const waiting = stream.next();
    await settle();
    expect(clock.sleeping).toBe(1);
    stop.abort(new Error('job cancelled'));
    await expect(waiting).rejects.toThrow('job cancelled');
    expect(clock.sleeping).toBe(0);
    expect(bucket.stats.grantedBytes).toBe(100);
  });
});

describe('writing a bandwidth', () => {
  test.each([
    ['20MB/s', 20_000_000],
    ['20MB', 20_000_000],
    ['10MiB/s', 10 * 1024 * 1024],
    ['100Mbit/s', 12_500_000],
    ['1.5GB/s', 1_500_000_000],
    ['1Gbit/s', 125_000_000],
    ['800kbit/s', 100_000],
    ['512KiB/s', 524_288],
    // Harbor's Kbps is 1024 bits: a replication rule's 8192 is 1 MiB/s.
    ['8192Kbps', 1_048_576],
    ['0', 0],
  ])('%s is %d bytes per second', (text, bytes) => {
    expect(parseBandwidth(text, 'MaxBandwidth')).toEqual({ bytesPerSecond: bytes });
  });

  test.each(['20', 'fast', '-1MB/s', '20 mb/s', '10Mb/s', '8192Kbps/s', '100Mbps', '20MB/min', '5constructor/s'])(
    '"%s" is refused with the forms that are accepted',
    (text) => {
      const read = parseBandwidth(text, 'MaxBandwidth');
      expect(read).toEqual({ problem: expect.stringContaining(`MaxBandwidth must be 0 (unlimited) or a number`) });
      expect((read as { problem: string }).problem).toContain('e.g. 20MB/s, 100Mbit/s');
      expect((read as { problem: string }).problem).toContain(`got "${text}"`);
    },
  );

  test('a cap too small to keep an upload going is refused, naming the smallest', () => {
    expect(parseBandwidth('50kB/s', '--max-bandwidth')).toEqual({
      problem: expect.stringContaining('--max-bandwidth of "50kB/s" is below the smallest cap, 100kB/s'),
    });
  });

  test('MaxBandwidth defaults to 0 (no cap) and reports its problem under its name', () => {
    const problems: string[] = [];
    const reader = keyReader(CONFIG_KEYS, { MaxBandwidth: '20 per second' }, problems);
    expect(reader.get('MaxBandwidth')).toBe(0);
    expect(problems).toEqual([expect.stringMatching(/^MaxBandwidth must be 0 \(unlimited\).*got "20 per second"$/)]);
    expect(keyReader(CONFIG_KEYS, {}, []).get('MaxBandwidth')).toBe(0);
    expect(keyReader(CONFIG_KEYS, { MaxBandwidth: '100Mbit/s' }, []).get('MaxBandwidth')).toBe(12_500_000);
  });
});
