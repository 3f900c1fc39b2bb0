// Endless and stalled answers: every body read from a peer has a byte cap and a deadline, blob streams an idle
// timeout, so a registry that never stops (or never starts) talking costs bounded memory and ends the request.
import { afterAll, afterEach, beforeAll, expect, test } from '@jest/globals';
import { RegistryClient, RegistryError } from '../../src/oci/index.js';
import { peakRssGrowth } from '../harness/hostile/memory.js';
import { startHostilePeer, type Answer, type HostilePeer } from '../harness/hostile/peer.js';

/** Stated bound: a peer streaming without end may cost at most this much resident memory (caps are 64 KiB to 16 MiB). */
const MAX_RSS_GROWTH = 100 * 1024 * 1024;
const DIGEST = `sha256:${'cd'.repeat(32)}`;

let registry: HostilePeer;
let client: RegistryClient;

beforeAll(async () => {
  registry = await startHostilePeer();
});

afterEach(async () => {
  await client?.close(true);
  registry.requests.length = 0;
});

afterAll(async () => {
  await registry?.stop();
});

function answer(path: string, reply: Answer): void {
  registry.script((_req, url) => (url.pathname === path ? reply : undefined));
}

function makeClient(options: { apiDeadlineMs?: number; blobIdleTimeoutMs?: number } = {}): RegistryClient {
  client = new RegistryClient({ host: registry.host, caCertificate: registry.cert, retry: { retries: 0 }, ...options });
  return client;
}

async function bounded(work: () => Promise<unknown>): Promise<RegistryError> {
  const { outcome, growthBytes } = await peakRssGrowth(work);
  expect(outcome).toBeInstanceOf(RegistryError);
  expect(growthBytes).toBeLessThan(MAX_RSS_GROWTH);
  return outcome as RegistryError;
}

test('an endless error body is cut at its cap: the request fails with the status, memory stays bounded', async () => {
  answer('/v2/app/manifests/v1', {
    status: 400,
    headers: { 'content-type': 'application/json' },
    body: '{"errors":[{"code":"MANIFEST_INVALID","message":"',
    endless: { chunk: 'A' },
  });
  const error = await bounded(() => makeClient().getManifest('app', 'v1'));
  expect(error.status).toBe(400);
  expect(error.message.length).toBeLessThan(1000);
});

test('an endless tags/list page fails as too large, not by reading on', async () => {
  answer('/v2/app/tags/list', {
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: '{"name":"app","tags":[',
    endless: { chunk: '"v1",' },
  });
  const error = await bounded(() => makeClient().listTags('app'));
  expect(error.code).toBe('BODY_TOO_LARGE');
  expect(error.message).toContain('tags page is over');
});

test('an endless token answer fails as an invalid token answer within its 64 KiB cap', async () => {
  registry.script((_req, url) =>
    url.pathname === '/v2/'
      ? { status: 401, headers: { 'www-authenticate': `Bearer realm="${registry.httpsUrl}/token",service="s"` } }
      : undefined,
  );
  answer('/token', {
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: '{"token":"',
    endless: { chunk: 'x' },
  });
  const error = await bounded(() => makeClient().ping());
  expect(error.code).toBe('TOKEN_INVALID');
  expect(error.message).toContain('an answer over 65536 bytes');
});

test('a JSON body trickling without end fails retryably at the API deadline', async () => {
  answer('/v2/app/tags/list', { status: 200, body: '{"tags":[', endless: { chunk: '"a",', everyMs: 50 } });
  const error = await bounded(() => makeClient({ apiDeadlineMs: 1500 }).listTags('app'));
  expect(error.code).toBe('TIMEOUT');
  expect(error.retryable).toBe(true);
  expect(error.message).toContain('did not arrive complete within 2 s');
});

test('a token answer trickling without end fails retryably at the deadline', async () => {
  registry.script((_req, url) =>
    url.pathname === '/v2/'
      ? { status: 401, headers: { 'www-authenticate': `Bearer realm="${registry.httpsUrl}/token",service="s"` } }
      : undefined,
  );
  answer('/token', { status: 200, body: '{"token":"', endless: { chunk: 'x', everyMs: 50 } });
  const error = await bounded(() => makeClient({ apiDeadlineMs: 1500 }).ping());
  expect(error.code).toBe('TIMEOUT');
  expect(error.retryable).toBe(true);
});

test('an error body trickling without end still ends the request with its status', async () => {
  answer('/v2/app/manifests/v2', { status: 404, body: '{"errors":[', endless: { chunk: ' ', everyMs: 50 } });
  const error = await bounded(() => makeClient({ apiDeadlineMs: 1500 }).getManifest('app', 'v2'));
  expect(error.status).toBe(404);
});

test('a registry that never answers an API request fails it retryably at the deadline', async () => {
  answer('/v2/app/manifests/v3', { hang: true });
  const error = await bounded(() => makeClient({ apiDeadlineMs: 1500 }).getManifest('app', 'v3'));
  expect(error.code).toBe('NETWORK');
  expect(error.retryable).toBe(true);
  expect(error.message).toContain('no answer in time');
});

test('a blob stream that stops sending fails retryably after the idle timeout', async () => {
  answer(`/v2/app/blobs/${DIGEST}`, {
    status: 200,
    headers: { 'content-length': '1000' },
    body: 'x'.repeat(10),
    hangAfterHeaders: true,
  });
  const read = async () => {
    for await (const chunk of makeClient({ blobIdleTimeoutMs: 1000 }).readBlob(
      'app',
      { mediaType: 'application/octet-stream', digest: DIGEST, size: 1000 },
      { maxResumes: 0 },
    ))
      void chunk;
  };
  const error = await bounded(read);
  expect(error.retryable).toBe(true);
});
