// Pure pieces of the OCI client: challenge, reference, Link and Retry-After parsing, verification of
// streamed bytes, and request pacing (with fake timers, so nothing here depends on the machine's speed).
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { afterEach, describe, expect, jest, test } from '@jest/globals';
import { parseChallenges } from '../../src/oci/challenge.js';
import { nextLink } from '../../src/oci/link.js';
import { TokenBucket } from '../../src/oci/rate-limit.js';
import { parseRetryAfter } from '../../src/oci/retry.js';
import { parseReference, RegistryClient, RegistryError, verifyStream } from '../../src/oci/index.js';

describe('WWW-Authenticate', () => {
  test('a Bearer challenge with quoted, comma-holding parameters', () => {
    expect(
      parseChallenges(
        'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"',
      ),
    ).toEqual([
      {
        scheme: 'bearer',
        params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull,push' },
      },
    ]);
  });

  test('Basic and several challenges in one header', () => {
    const parsed = parseChallenges(
      'Basic realm="harbor", Bearer realm="https://h/service/token",service="harbor-registry"',
    );
    expect(parsed.map((c) => c.scheme)).toEqual(['basic', 'bearer']);
    expect(parsed[1].params.service).toBe('harbor-registry');
  });

  test('nothing usable gives no challenge', () => {
    expect(parseChallenges(undefined)).toEqual([]);
    expect(parseChallenges('')).toEqual([]);
  });
});

describe('image references', () => {
  test('registry with port, nested repository, tag and digest', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(parseReference(`127.0.0.1:5000/a/b/c:v1.2@${digest}`)).toEqual({
      registry: '127.0.0.1:5000',
      repository: 'a/b/c',
      tag: 'v1.2',
      digest,
    });
    expect(parseReference('swr.cn-north-4.myhuaweicloud.com/ns/app')).toEqual({
      registry: 'swr.cn-north-4.myhuaweicloud.com',
      repository: 'ns/app',
      tag: undefined,
      digest: undefined,
    });
  });

  test.each([
    ['nginx', /not a full image reference/],
    ['r.example/UPPER:tag', /not a valid repository name/],
    ['r.example/app:-bad', /not a valid tag/],
    ['r.example/app@sha256:123', /not a valid digest/],
  ])('%s is refused with the rule it broke', (text, message) => {
    expect(() => parseReference(text)).toThrow(message);
  });
});

describe('Link paging', () => {
  const base = new URL('http://r.example/v2/_catalog?n=2');
  test('rel="next" resolved against the request', () => {
    expect(nextLink('</v2/_catalog?last=b&n=2>; rel="next"', base)?.toString()).toBe(
      'http://r.example/v2/_catalog?last=b&n=2',
    );
  });
  test('next among several links, and none', () => {
    expect(nextLink('</p?page=1>; rel="prev" , </p?page=3>; rel="next"', base)?.pathname).toBe('/p');
    expect(nextLink('</p?page=1>; rel="prev"', base)).toBeUndefined();
    expect(nextLink(undefined, base)).toBeUndefined();
  });
});

test('Retry-After as seconds and as an HTTP date', () => {
  expect(parseRetryAfter('7')).toBe(7000);
  const now = Date.parse('2026-01-01T00:00:00Z');
  expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now)).toBe(10_000);
  expect(parseRetryAfter('soon')).toBeUndefined();
});

describe('verifyStream', () => {
  const bytes = Buffer.from('hello registry');
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  async function* chunks(...parts: Buffer[]) {
    yield* parts;
  }
  async function collect(source: AsyncIterable<Buffer>) {
    const out: Buffer[] = [];
    for await (const c of source) out.push(c);
    return Buffer.concat(out);
  }
  const target = { digest, size: bytes.length, host: 'src.example', repository: 'app' };

  test('passes matching content through unchanged', async () => {
    expect((await collect(verifyStream(chunks(bytes.subarray(0, 5), bytes.subarray(5)), target))).equals(bytes)).toBe(
      true,
    );
  });

  test('withholds the last chunk of damaged content and names the blob', async () => {
    const damaged = Buffer.from(bytes);
    damaged[3] = 0;
    const seen: Buffer[] = [];
    const run = (async () => {
      for await (const c of verifyStream(chunks(damaged.subarray(0, 5), damaged.subarray(5)), target)) seen.push(c);
    })();
    await expect(run).rejects.toThrow(new RegExp(`${digest}.*src.example/app`));
    expect(Buffer.concat(seen).length).toBe(5);
  });

  test('too few or too many bytes fail with the size', async () => {
    await expect(collect(verifyStream(chunks(bytes.subarray(1)), target))).rejects.toThrow(/13 bytes instead of 14/);
    await expect(collect(verifyStream(chunks(bytes, Buffer.from('x')), target))).rejects.toThrow(
      /more than the 14 bytes/,
    );
  });
});

describe('TokenBucket', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  test('lets a burst through, then one request per 1/rate seconds, in order, never more than the rate a second', async () => {
    jest.useFakeTimers({ now: 0 });
    const bucket = new TokenBucket(4, 2);
    const released: number[] = [];
    for (let i = 0; i < 6; i++) void bucket.take().then(() => released.push(i));
    await jest.advanceTimersByTimeAsync(0);
    expect(released).toEqual([0, 1]);
    await jest.advanceTimersByTimeAsync(250);
    expect(released).toEqual([0, 1, 2]);
    // The bucket has a token at 750 ms, but 4 requests already went out in this second (the burst's 2 at 0 ms).
    await jest.advanceTimersByTimeAsync(750);
    expect(released).toEqual([0, 1, 2, 3]);
    // The burst's two leave the window (1,050 ms: a second and a margin for the way to the registry).
    await jest.advanceTimersByTimeAsync(50);
    expect(released).toEqual([0, 1, 2, 3, 4, 5]);
  });

  test('slowing down holds every request for the pause, then halves the rate below what was being sent', async () => {
    jest.useFakeTimers({ now: 0 });
    const bucket = new TokenBucket(0);
    for (let i = 0; i < 40; i++) await bucket.take();
    bucket.slowDown(1000);
    expect(bucket.currentRate).toBe(20);
    let passed = false;
    void bucket.take().then(() => (passed = true));
    await jest.advanceTimersByTimeAsync(900);
    expect(passed).toBe(false);
    await jest.advanceTimersByTimeAsync(200);
    expect(passed).toBe(true);
  });

  test('no second holds more requests than the rate, however full the bucket (SWR answers 503 past 20)', async () => {
    jest.useFakeTimers({ now: 0 });
    const bucket = new TokenBucket(20);
    const at: number[] = [];
    for (let i = 0; i < 100; i++) void bucket.take().then(() => at.push(Date.now()));
    await jest.advanceTimersByTimeAsync(6000);
    expect(at).toHaveLength(100);
    const busiest = Math.max(...at.map((t) => at.filter((u) => u > t - 1000 && u <= t).length));
    expect(busiest).toBeLessThanOrEqual(20);
  });

  test('successes bring the rate back up to the configured one, never above', () => {
    const bucket = new TokenBucket(20);
    bucket.slowDown(0);
    expect(bucket.currentRate).toBe(1);
    for (let i = 0; i < 500; i++) bucket.succeeded();
    expect(bucket.currentRate).toBe(20);
  });
});

test('a Docker schema 1 manifest is refused with advice to re-push', async () => {
  // The only thing under test is how the client names an old format; no copy involved.
  const server = createServer((req, res) => {
    if (req.url === '/v2/') return void res.writeHead(200).end('{}');
    res.writeHead(200, { 'content-type': 'application/vnd.docker.distribution.manifest.v1+prettyjws' });
    res.end(JSON.stringify({ schemaVersion: 1, name: 'old/app', tag: 'v1', fsLayers: [], history: [] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const client = new RegistryClient({ host: `127.0.0.1:${port}`, insecure: true });
  try {
    const error = (await client.getManifest('old/app', 'v1').catch((e: unknown) => e)) as RegistryError;
    expect(error).toBeInstanceOf(RegistryError);
    expect(error.code).toBe('UNSUPPORTED_SCHEMA1');
    expect(error.message).toMatch(/schema 1.*push it again/);
  } finally {
    await client.close();
    server.close();
  }
});
