// Authentication against real registries: htpasswd Basic on one side, the Bearer token flow on the other,
// tokens that die mid-copy, several scopes in one token for mounts, and wrong credentials.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { CopyEngine } from '../../src/copy/index.js';
import { RegistryClient, RegistryError } from '../../src/oci/index.js';
import { clientFor, through } from '../harness/clients.js';
import { startFaultProxy } from '../harness/fault-proxy.js';
import { assertImageComplete, getManifest, pushImage, type LayerSpec } from '../harness/images.js';
import { startRegistry, type RunningRegistry } from '../harness/registry.js';

const layer = (seed: string, size = 100_000): LayerSpec => ({ seed, size });

let basic: RunningRegistry;
let token: RunningRegistry;

beforeAll(async () => {
  // The token registry accepts each token for about 3 s (exp has whole-second resolution) while announcing
  // 300 s: a token that dies early.
  [basic, token] = await Promise.all([
    startRegistry({ auth: 'htpasswd' }),
    startRegistry({ auth: 'token', tokenExpiresIn: 300, tokenValidFor: 3 }),
  ]);
});

afterAll(async () => {
  await Promise.all([basic?.stop(), token?.stop()]);
});

function copy(engine: CopyEngine, from: RegistryClient, to: RegistryClient, repo: string, tag: string, dstRepo = repo) {
  return engine.copyImage({ client: from, repository: repo, reference: tag }, { client: to, repository: dstRepo, tag });
}

test('Basic source to Bearer destination, then a token that expired mid-run is refreshed and the request replayed', async () => {
  await pushImage(basic, 'auth/app', 'v1', { format: 'docker', layers: [layer('auth-a'), layer('auth-b')] });
  await pushImage(basic, 'auth/app', 'v2', { format: 'docker', layers: [layer('auth-c')] });
  const from = clientFor(basic);
  const to = clientFor(token, { push: true });
  try {
    const engine = new CopyEngine();
    const first = await copy(engine, from, to, 'auth/app', 'v1');
    expect(first.status).toBe('copied');
    const issuedBefore = token.tokenServer!.issued.length;
    // Far fewer tokens than requests: one per scope set, reused.
    expect(issuedBefore).toBeLessThanOrEqual(2);
    // Kept: the token dies on the registry's clock and nothing announces it; probing for the death needs a token of
    // our own, and minting one would add to the issued count this test asserts on.
    await sleep(4_500);
    const second = await copy(engine, from, to, 'auth/app', 'v2');
    expect(second.status).toBe('copied');
    expect(token.tokenServer!.issued.length).toBeGreaterThan(issuedBefore);
    for (const tag of ['v1', 'v2']) {
      expect((await getManifest(token, 'auth/app', tag))!.digest).toBe(
        (await getManifest(basic, 'auth/app', tag))!.digest,
      );
      await assertImageComplete(token, 'auth/app', tag);
    }
  } finally {
    await Promise.all([from.close(), to.close()]);
  }
}, 30_000);

test('a token that dies while a blob upload is held up restarts that upload with a fresh token', async () => {
  await pushImage(basic, 'auth/slow', 'v1', { format: 'docker', layers: [layer('auth-slow', 400_000)] });
  const proxy = await startFaultProxy(token.url);
  const from = clientFor(basic);
  const to = clientFor(through(token, proxy.url), { push: true });
  try {
    // The streaming PUT reaches the registry only after its token has died: 401 on a body that cannot be replayed.
    proxy.inject({ method: 'PUT', path: /\/blobs\/uploads\/.*digest=/, times: 1, fault: { delayMs: 6_000 } });
    const issuedBefore = token.tokenServer!.issued.length;
    const result = await copy(new CopyEngine(), from, to, 'auth/slow', 'v1');
    expect(result.status).toBe('copied');
    expect(result.retries).toBeGreaterThanOrEqual(1);
    // The held-up PUT failed: the registry's 401 reaches the client, or, when it closes the connection while
    // the body is still arriving, the proxy reports 502. Either way the upload restarted with a new token.
    const held = proxy.requests.find((r) => r.faulted === 'delay')!;
    expect([401, 502]).toContain(held.status);
    expect(
      token.tokenServer!.issued.filter((t) => t.scopes.includes('repository:auth/slow:pull,push')).length,
    ).toBeGreaterThanOrEqual(2);
    expect(token.tokenServer!.issued.length).toBeGreaterThan(issuedBefore + 1);
    await assertImageComplete(token, 'auth/slow', 'v1');
  } finally {
    await Promise.all([from.close(), to.close(), proxy.stop()]);
  }
}, 30_000);

test('a mount from a sibling repository asks one token for push here and pull there', async () => {
  const shared = layer('auth-shared', 250_000);
  await pushImage(basic, 'auth/one', 'v1', { format: 'oci', layers: [shared] });
  await pushImage(basic, 'auth/two', 'v1', { format: 'oci', layers: [shared, layer('auth-two')] });
  const from = clientFor(basic);
  const to = clientFor(token, { push: true });
  try {
    const engine = new CopyEngine();
    expect((await copy(engine, from, to, 'auth/one', 'v1', 'mount/one')).status).toBe('copied');
    const second = await copy(engine, from, to, 'auth/two', 'v1', 'mount/two');
    expect(second.status).toBe('copied');
    expect(second.blobsMounted).toBe(1);
    const multi = token.tokenServer!.issued.find((t) => t.scopes.length === 2);
    expect(multi?.scopes.sort()).toEqual(['repository:mount/one:pull', 'repository:mount/two:pull,push']);
    await assertImageComplete(token, 'mount/two', 'v1');
  } finally {
    await Promise.all([from.close(), to.close()]);
  }
});

test('wrong credentials fail at once with a message naming the host and what to check, and no secret', async () => {
  for (const registry of [basic, token]) {
    // The token server has its own plain-http port: an operator lists it in TokenRealmHosts.
    const tokenRealmHosts = registry.tokenServer ? [new URL(registry.tokenServer.realm).host] : undefined;
    const client = new RegistryClient({
      host: registry.host,
      insecure: true,
      credentials: { username: 'tester', password: 'not-the-password' },
      retry: { retries: 0 },
      tokenRealmHosts,
    });
    try {
      const failure = await client.ping().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(failure).toBeInstanceOf(RegistryError);
      const error = failure as RegistryError;
      expect(error.code).toBe('UNAUTHORIZED');
      expect(error.message).toContain(registry.host);
      expect(error.message).toMatch(/credentials/);
      expect(error.message).not.toContain('not-the-password');
    } finally {
      await client.close();
    }
  }
});

test('anonymous access to a registry that needs credentials says to give them', async () => {
  const client = new RegistryClient({ host: basic.host, insecure: true, retry: { retries: 0 } });
  try {
    await expect(client.ping()).rejects.toThrow(/requires authentication.*credentials/);
  } finally {
    await client.close();
  }
});
