// SWR's management API and IAM played by a broken or hostile endpoint on 127.0.0.1 (a wrong SWRApiEndpoint, a
// proxy that hangs, something else answering): a call that never answers, an answer that drips or never ends.
// Each call must end within its deadline and hold at most its cap, and the job sees an error naming what to
// check, as every other peer's answer is bounded (Harbor's, the registries', the token realms').
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, expect, test } from '@jest/globals';
import nock from 'nock';
import { Agent } from 'undici';
import { HttpRetryPolicy } from '../../src/oci/index.js';
import { IamTokenSource } from '../../src/swr/iam.js';
import { SwrManagementClient } from '../../src/swr/management.js';
import type { CallLimits } from '../../src/swr/fetch-via.js';

const LIMITS: CallLimits = { deadlineMs: 600, maxBodyBytes: 256 * 1024, maxErrorBytes: 4 * 1024 };
const CHUNK = Buffer.alloc(16 * 1024, 'x');

type Behaviour = (req: IncomingMessage, res: ServerResponse) => void;

let server: Server;
let url: string;
let behaviour: Behaviour;
/** Bytes the endpoint managed to write for the current test, and whether the client hung up. */
let written = 0;
let hungUp = false;
const sockets = new Set<Socket>();
/** Each test's own connection pool, so that no test meets a connection another one left behind. */
let pool: Agent;
const timers = new Set<NodeJS.Timeout>();

beforeAll(async () => {
  nock.enableNetConnect('127.0.0.1');
  server = createServer((req, res) => {
    res.on('close', () => (hungUp = true));
    // No connection outlives its test: the next test's call must not meet a socket this one tore down.
    res.shouldKeepAlive = false;
    behaviour(req, res);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

beforeEach(() => {
  pool = new Agent();
});

afterEach(async () => {
  await pool.destroy();
  for (const timer of timers) clearInterval(timer);
  timers.clear();
  for (const socket of sockets) socket.destroy();
  written = 0;
  hungUp = false;
});

afterAll(async () => {
  server.close();
  await once(server, 'close');
});

/** Writes a chunk every `everyMs` for as long as the client reads. */
function endless(res: ServerResponse, everyMs: number): void {
  const timer = setInterval(() => {
    if (res.destroyed) return clearInterval(timer);
    written += CHUNK.length;
    res.write(CHUNK);
  }, everyMs);
  timers.add(timer);
}

const client = () =>
  new SwrManagementClient(url, { kind: 'aksk', ak: 'AKEXAMPLE0000000001', sk: 'sk-example' }, 'cn-north-4', {
    limits: LIMITS,
    retry: new HttpRetryPolicy({ retries: 0 }),
    dispatcher: pool,
  });

async function failure(promise: Promise<unknown>): Promise<{ error: Error; ms: number }> {
  const start = Date.now();
  const error = await promise.then(
    () => new Error('expected the call to fail'),
    (e: Error) => e,
  );
  return { error, ms: Date.now() - start };
}

test('an API that never answers fails the call at its deadline, naming the keys to check', async () => {
  behaviour = () => undefined; // headers never come
  const { error, ms } = await failure(client().listNamespaces());
  expect(error.message).toMatch(/list SWR namespaces at 127\.0\.0\.1:\d+ failed: .*no complete answer within 1 s/);
  expect(error.message).toContain('check RegionName (or SWRApiEndpoint)');
  expect(ms).toBeGreaterThanOrEqual(LIMITS.deadlineMs - 50);
  expect(ms).toBeLessThan(LIMITS.deadlineMs + 2_000);
});

test('an answer whose body drips without end fails at the deadline, not when the endpoint stops', async () => {
  behaviour = (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"namespaces":[');
    endless(res, 100); // 16 KiB every 100 ms: under the cap for longer than the deadline
  };
  const { error, ms } = await failure(client().listNamespaces());
  expect(error.message).toContain('no complete answer within 1 s');
  expect(ms).toBeLessThan(LIMITS.deadlineMs + 2_000);
  await waitFor(() => hungUp);
});

test('an endless successful answer is cut at the cap: the client stops reading and hangs up', async () => {
  behaviour = (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    endless(res, 1);
  };
  const { error } = await failure(client().getJson('/v2/manage/repos?namespace=ns&limit=100&offset=0', 'list'));
  expect(error.message).toContain(`is over ${LIMITS.maxBodyBytes} bytes`);
  await waitFor(() => hungUp);
  const atHangUp = written;
  // The endpoint can write what the socket buffers take, not the endless rest.
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(written).toBe(atHangUp);
  expect(written).toBeLessThan(LIMITS.maxBodyBytes + 8 * 1024 * 1024);
});

test("an endless error answer keeps its start for the message and SWR's status, and reads no further", async () => {
  behaviour = (_req, res) => {
    res.writeHead(403, { 'content-type': 'application/json' });
    res.write(JSON.stringify({ error_code: 'SVCSTG.SWR.4039001', error_msg: 'no permission' }).slice(0, -1));
    res.write(`, "padding": "`);
    endless(res, 1);
  };
  const { error, ms } = await failure(client().listNamespaces());
  expect((error as { status?: number }).status).toBe(403);
  expect(error.message).toMatch(/list SWR namespaces at 127\.0\.0\.1:\d+ failed: 403/);
  expect(ms).toBeLessThan(LIMITS.deadlineMs);
  await waitFor(() => hungUp);
});

test("IAM's token call has the same deadline: a login that never answers fails, naming IAM", async () => {
  behaviour = () => undefined;
  const tokens = new IamTokenSource({
    endpoint: url,
    domain: 'account',
    password: 'password-0001',
    region: 'cn-north-4',
    limits: LIMITS,
    dispatcher: pool,
  });
  const { error, ms } = await failure(tokens.token());
  expect(error.message).toContain('cannot reach IAM: no complete answer within 1 s');
  expect(ms).toBeLessThan(LIMITS.deadlineMs + 2_000);
});

test('a redirect is not followed: neither the IAM password nor the management token goes to where it points', async () => {
  const trapped: string[] = [];
  const trap = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      trapped.push(`${req.method} ${req.url} ${String(req.headers['x-auth-token'] ?? '')} ${body}`);
      res.end('{}');
    });
  });
  trap.listen(0, '127.0.0.1');
  await once(trap, 'listening');
  const trapUrl = `http://127.0.0.1:${(trap.address() as AddressInfo).port}`;
  try {
    behaviour = (req, res) => {
      res.writeHead(307, { location: `${trapUrl}${req.url}` });
      res.end();
    };
    const tokens = new IamTokenSource({
      endpoint: url,
      domain: 'account',
      password: 'iam-password-0001',
      region: 'cn-north-4',
      limits: LIMITS,
      dispatcher: pool,
    });
    const { error: iam } = await failure(tokens.token());
    expect(iam.message).toMatch(
      /cannot reach IAM: it answered 307, redirecting to http:\/\/127\.0\.0\.1:\d+\/v3\/auth\/tokens: not followed/,
    );
    const management = new SwrManagementClient(
      url,
      { kind: 'iam', tokens: { token: async () => 'token-0001' } as unknown as IamTokenSource },
      'cn-north-4',
      { limits: LIMITS, retry: new HttpRetryPolicy({ retries: 0 }), dispatcher: pool },
    );
    const { error: listed } = await failure(management.listNamespaces());
    expect(listed.message).toContain('it answered 307, redirecting to');
    expect(trapped).toEqual([]);
  } finally {
    trap.closeAllConnections();
    trap.close();
  }
});

async function waitFor(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 3_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met within 3 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
