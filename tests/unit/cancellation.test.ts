// Cancellation and time passed in: a caller's signal stops its requests, retry waits and blob streams at once
// (not at the API deadline, not after the server's Retry-After), and a copy run stopped by its signal fails
// its image with the signal's reason; token expiry follows the clock the client was given. One local HTTP
// server that answers as each test says; nothing waits on real time beyond a few milliseconds.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, test } from '@jest/globals';
import { CopyEngine, RunState } from '../../src/copy/index.js';
import { RegistryClient, type Clock } from '../../src/oci/index.js';

let server: Server | undefined;
const clients: RegistryClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close(true)));
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  server = createServer(handler);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function client(host: string, clock?: Clock): RegistryClient {
  const made = new RegistryClient({ host, insecure: true, apiDeadlineMs: 30_000, clock });
  clients.push(made);
  return made;
}

const stopSoon = (ms = 50) => AbortSignal.timeout(ms);
const elapsed = async (work: Promise<unknown>) => {
  const started = Date.now();
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  return { error: error as Error | undefined, ms: Date.now() - started };
};

test('a request the server never answers stops when its signal aborts, long before the API deadline', async () => {
  const host = await serve(() => undefined);
  const { error, ms } = await elapsed(client(host).getManifest('app', 'v1', { signal: stopSoon() }));
  expect(error?.name).toBe('TimeoutError');
  expect(ms).toBeLessThan(5_000);
});

test("a retry wait for the server's Retry-After is cut short by the signal, and not counted as another failure", async () => {
  let requests = 0;
  const abort = new AbortController();
  const host = await serve((_req, res) => {
    requests++;
    res.writeHead(503, { 'retry-after': '60' }).end();
    // Stopped once the client is in its wait, however long a loaded machine took to send the request.
    setTimeout(() => abort.abort(new Error('job stopped')), 50);
  });
  const counters = { retries: 0 };
  const { error, ms } = await elapsed(client(host).getManifest('app', 'v1', { counters, signal: abort.signal }));
  expect(error?.message).toBe('job stopped');
  expect(ms).toBeLessThan(5_000);
  expect(requests).toBe(1);
  expect(counters.retries).toBe(1);
});

test('a blob stream is stopped by its signal mid-body, without a resume', async () => {
  let requests = 0;
  const host = await serve((_req, res) => {
    requests++;
    res.writeHead(200, { 'content-length': '1000' });
    res.write(Buffer.alloc(10));
  });
  const abort = new AbortController();
  const read = (async () => {
    for await (const chunk of client(host).readBlob(
      'app',
      { mediaType: 'application/octet-stream', digest: `sha256:${'0'.repeat(64)}`, size: 1000 },
      { signal: abort.signal },
    )) {
      if (chunk.length > 0) abort.abort(new Error('job stopped'));
    }
  })();
  const { error, ms } = await elapsed(read);
  expect(error?.message).toBe('job stopped');
  expect(ms).toBeLessThan(5_000);
  expect(requests).toBe(1);
});

test("a run's signal fails its image with the signal's reason, and an already stopped run sends nothing", async () => {
  let requests = 0;
  const host = await serve(() => {
    requests++;
  });
  const engine = new CopyEngine();
  const registry = client(host);
  const pair = {
    source: { client: registry, repository: 'src', reference: 'v1' },
    destination: { client: registry, repository: 'dst', tag: 'v1' },
  };
  const abort = new AbortController();
  setTimeout(() => abort.abort(new Error('lock lost')), 50);
  const result = await engine.copyImage(pair.source, pair.destination, new RunState(abort.signal));
  expect(result).toMatchObject({ status: 'failed', reason: 'lock lost' });
  const before = requests;
  const again = await engine.copyImage(pair.source, pair.destination, new RunState(abort.signal));
  expect(again).toMatchObject({ status: 'failed', reason: 'lock lost' });
  expect(requests).toBe(before);
});

test('a Bearer token is kept until shortly before its expiry by the given clock, then fetched again', async () => {
  let tokens = 0;
  const host = await serve((req, res) => {
    if (req.url?.startsWith('/token')) {
      tokens++;
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ token: `t${tokens}`, expires_in: 300 }));
    } else if (req.headers.authorization === `Bearer t${tokens}`) {
      res.writeHead(200).end();
    } else {
      res
        .writeHead(401, { 'www-authenticate': `Bearer realm="http://${req.headers.host}/token",service="test"` })
        .end();
    }
  });
  let now = 1_000_000;
  const clock: Clock = { now: () => now, sleep: () => Promise.resolve() };
  const registry = client(host, clock);
  await registry.ping();
  await registry.ping();
  expect(tokens).toBe(1);
  now += 269_000; // 300 s less the 30 s margin: still valid
  await registry.ping();
  expect(tokens).toBe(1);
  now += 2_000;
  await registry.ping();
  expect(tokens).toBe(2);
});
