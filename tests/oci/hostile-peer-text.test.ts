// What a peer says reaches the user, made safe: the token service's own reason (SWR's missing organization)
// with fitting advice, and any peer text in an error capped and with control characters escaped.
import { afterAll, afterEach, beforeAll, expect, test } from '@jest/globals';
import { RegistryClient, RegistryError } from '../../src/oci/index.js';
import { startHostilePeer, type Answer, type HostilePeer } from '../harness/hostile/peer.js';

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

/** SWR's token flow: realm on the registry host, Basic on the token request. */
function tokenRefusal(status: number, body: string): void {
  registry.script((_req, url): Answer | undefined => {
    if (url.pathname === '/swr/auth/v2/registry/auth/')
      return { status, headers: { 'content-type': 'application/json' }, body };
    return {
      status: 401,
      headers: {
        'www-authenticate': `Bearer realm="${registry.httpsUrl}/swr/auth/v2/registry/auth/",service="dockyard"`,
      },
    };
  });
}

async function failure(work: Promise<unknown>): Promise<RegistryError> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RegistryError);
  return error as RegistryError;
}

function makeClient(): RegistryClient {
  client = new RegistryClient({
    host: registry.host,
    caCertificate: registry.cert,
    credentials: { username: 'cn-north-4@AK', password: 'login-key' },
    push: true,
    retry: { retries: 0 },
  });
  return client;
}

test("SWR's 'Image organization does not exist' on the token request reaches the user with namespace advice", async () => {
  tokenRefusal(401, '{"errors":[{"code":"DENIED","message":"Image organization does not exist"}]}');
  const error = await failure(makeClient().headManifest('missing-ns/app', 'v1'));
  expect(error.message).toContain('Image organization does not exist');
  expect(error.message).toMatch(/namespace .* does not exist .* create it first/);
  expect(error.message).not.toMatch(/check the credentials/);
});

test('a token refusal for bad credentials keeps its reason and still says to check the credentials', async () => {
  tokenRefusal(401, '{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
  const error = await failure(makeClient().ping());
  expect(error.message).toContain('authentication required');
  expect(error.message).toContain(`check the credentials used for ${registry.host}`);
});

const FORGED = 'bad\r\n2026-11-30T05:00:00Z info sync ok\u001b[2J\u2028';

test('a token service message with control characters is escaped and capped', async () => {
  tokenRefusal(403, JSON.stringify({ errors: [{ code: 'DENIED', message: FORGED + 'z'.repeat(5000) }] }));
  const error = await failure(makeClient().ping());
  expect(error.message).not.toMatch(/[\r\n\u001b\u2028]/);
  expect(error.message).toContain('bad\\r\\n2026-11-30T05:00:00Z');
  expect(error.message.length).toBeLessThan(1000);
});

test('a registry error message (and code) with control characters is escaped and capped', async () => {
  registry.script((_req, url) =>
    url.pathname === '/v2/app/manifests/v1'
      ? { status: 400, body: JSON.stringify({ errors: [{ code: 'X\nY', message: FORGED + 'z'.repeat(5000) }] }) }
      : undefined,
  );
  client = new RegistryClient({ host: registry.host, caCertificate: registry.cert, retry: { retries: 0 } });
  const error = await failure(client.getManifest('app', 'v1'));
  expect(error.message).not.toMatch(/[\r\n\u001b\u2028]/);
  expect(error.code).toBe('HTTP_400');
  expect(error.message).toContain('\\u001b[2J\\u2028');
  expect(error.message.length).toBeLessThan(1000);
});
