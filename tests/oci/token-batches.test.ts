// One token for a batch of scope sets (Authenticator.prepare) and its fall-backs: a realm that grants less than
// asked (read from the token's `access` claim), and an opaque token the registry then refuses with a 401.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import { Agent } from 'undici';
import { Authenticator } from '../../src/oci/auth.js';
import { FakeClock } from '../harness/fake-clock.js';
import { listenOnLoopback } from '../harness/ports.js';

type Mode = 'grant-first' | 'grant-none' | 'opaque';

let server: Server;
let base: string;
let mode: Mode = 'grant-first';
const asked: string[][] = [];
const agent = new Agent();

const jwt = (claims: object) =>
  ['{"alg":"none"}', JSON.stringify(claims), 'signature'].map((p) => Buffer.from(p).toString('base64url')).join('.');

beforeAll(async () => {
  server = createServer((req, res) => {
    const scopes = new URL(req.url ?? '/', 'http://x').searchParams.getAll('scope');
    asked.push(scopes);
    const access = (mode === 'grant-none' && scopes.length > 1 ? [] : scopes.slice(0, 1)).map((s) => {
      const [type, name, actions] = s.split(':');
      return { type, name, actions: actions.split(',') };
    });
    const token = mode === 'opaque' ? `opaque-${asked.length}` : jwt({ access });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ token, expires_in: 300 }));
  });
  base = `http://127.0.0.1:${await listenOnLoopback(server)}`;
});

afterAll(async () => {
  await agent.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function bearerAuthenticator(clock = new FakeClock()): Authenticator {
  const auth = new Authenticator(
    'registry.test',
    { username: 'u', password: 'p' },
    agent,
    { registry: new URL(`${base}/`), allowedHosts: [], deadlineMs: 5_000 },
    clock,
  );
  auth.onUnauthorized(`Bearer realm="${base}/token",service="test"`, [], false);
  return auth;
}

const set = (name: string) => [`repository:${name}:pull,push`];

test('a realm granting less than asked: the granted set uses the batch token, the others get their own', async () => {
  mode = 'grant-first';
  asked.length = 0;
  const auth = bearerAuthenticator();
  await auth.prepare([set('a'), set('b'), set('c')]);
  expect(asked).toEqual([[...set('a'), ...set('b'), ...set('c')]]);
  await auth.header(set('a'));
  expect(asked.length).toBe(1);
  // b and c are asked one by one when first used, as without batches.
  await auth.header(set('b'));
  await auth.header(set('c'));
  expect(asked.slice(1)).toEqual([set('b'), set('c')]);
});

test('a realm granting none of a batch is not asked for batches again for 10 minutes', async () => {
  mode = 'grant-none';
  asked.length = 0;
  const clock = new FakeClock();
  const auth = bearerAuthenticator(clock);
  await auth.prepare([set('a'), set('b')]);
  expect(asked.length).toBe(1);
  await auth.prepare([set('c'), set('d')]);
  expect(asked.length).toBe(1);
  // A pause, not for ever: a service running for weeks tries again.
  clock.advance(10 * 60_000);
  await auth.prepare([set('c'), set('d')]);
  expect(asked).toEqual([
    [...set('a'), ...set('b')],
    [...set('c'), ...set('d')],
  ]);
});

test('an opaque batch token refused by the registry: that set and later batches get a token each', async () => {
  mode = 'opaque';
  asked.length = 0;
  const auth = bearerAuthenticator();
  await auth.prepare([set('a'), set('b')]);
  expect(asked.length).toBe(1);
  expect(await auth.header(set('b'))).toBe('Bearer opaque-1');
  expect(auth.onUnauthorized(`Bearer realm="${base}/token",service="test"`, set('b'), true)).toBe(true);
  expect(await auth.header(set('b'))).toBe('Bearer opaque-2');
  await auth.prepare([set('c'), set('d')]);
  expect(asked.length).toBe(2);
});
