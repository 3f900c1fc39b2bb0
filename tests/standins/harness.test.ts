// Owns the checks that the test harness itself behaves: real registries in each auth mode, the
// token server's grants and lifetimes, the fault proxy's faults and pass-through, and restart().
import { createHash, randomBytes } from 'node:crypto';
import { Agent, request } from 'undici';
import { startFaultProxy, type FaultProxy } from '../harness/fault-proxy.js';
import { startRegistry, type RunningRegistry } from '../harness/registry.js';
import { startTokenServer } from '../harness/token-server.js';
import { until } from '../harness/until.js';

const agent = new Agent({ connections: 8 });
afterAll(async () => {
  await agent.close();
});

type Headers = Record<string, string>;

function digestOf(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

async function send(method: 'GET' | 'HEAD' | 'POST' | 'PUT', url: string, headers: Headers = {}, body?: Buffer) {
  const res = await request(url, { method, headers, body, dispatcher: agent });
  const data = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, headers: res.headers, data };
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : (value ?? '');
}

// Monolithic upload: POST opens a session, one PUT with the whole blob closes it.
async function pushBlob(base: string, repo: string, data: Buffer, headers: Headers = {}): Promise<string> {
  const digest = digestOf(data);
  const opened = await send('POST', `${base}/v2/${repo}/blobs/uploads/`, headers);
  expect(opened.status).toBe(202);
  const location = new URL(header(opened.headers, 'location'), base);
  location.searchParams.set('digest', digest);
  const put = await send(
    'PUT',
    location.toString(),
    { ...headers, 'content-type': 'application/octet-stream', 'content-length': String(data.length) },
    data,
  );
  expect(put.status).toBe(201);
  return digest;
}

async function pushManifest(base: string, repo: string, tag: string, headers: Headers = {}): Promise<void> {
  const config = Buffer.from(
    JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }),
  );
  const layer = randomBytes(2048);
  const configDigest = await pushBlob(base, repo, config, headers);
  const layerDigest = await pushBlob(base, repo, layer, headers);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layerDigest, size: layer.length }],
    }),
  );
  const put = await send(
    'PUT',
    `${base}/v2/${repo}/manifests/${tag}`,
    { ...headers, 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
    manifest,
  );
  expect(put.status).toBe(201);
  const got = await send('GET', `${base}/v2/${repo}/manifests/${tag}`, {
    ...headers,
    accept: 'application/vnd.oci.image.manifest.v1+json',
  });
  expect(got.status).toBe(200);
  expect(got.data.equals(manifest)).toBe(true);
}

async function fetchToken(registry: RunningRegistry, scopes: string[], password = registry.password!) {
  const url = new URL(registry.tokenServer!.realm);
  url.searchParams.set('service', registry.tokenServer!.service);
  for (const scope of scopes) url.searchParams.append('scope', scope);
  const res = await send('GET', url.toString(), { authorization: basic(registry.username!, password) });
  return {
    status: res.status,
    body: res.status === 200 ? (JSON.parse(res.data.toString()) as Record<string, unknown>) : {},
  };
}

describe('open registry', () => {
  let registry: RunningRegistry;
  beforeAll(async () => {
    registry = await startRegistry();
  });
  afterAll(async () => {
    await registry.stop();
  });

  it('answers /v2/ with 200 on 127.0.0.1', async () => {
    expect(registry.host).toMatch(/^127\.0\.0\.1:\d+$/);
    const res = await send('GET', `${registry.url}/v2/`);
    expect(res.status).toBe(200);
  });

  it('keeps its storage across restart() on the same port', async () => {
    const blob = randomBytes(4096);
    const digest = await pushBlob(registry.url, 'restart/kept', blob);
    const urlBefore = registry.url;
    await registry.restart();
    expect(registry.url).toBe(urlBefore);
    const res = await send('GET', `${registry.url}/v2/restart/kept/blobs/${digest}`);
    expect(res.status).toBe(200);
    expect(res.data.equals(blob)).toBe(true);
  });

  it('stop() is idempotent and leaves nothing listening', async () => {
    const other = await startRegistry();
    await other.stop();
    await other.stop();
    await expect(send('GET', `${other.url}/v2/`)).rejects.toThrow();
  });
});

describe('htpasswd registry', () => {
  let registry: RunningRegistry;
  beforeAll(async () => {
    registry = await startRegistry({ auth: 'htpasswd' });
  });
  afterAll(async () => {
    await registry.stop();
  });

  it('refuses anonymous requests with a Basic challenge', async () => {
    const res = await send('GET', `${registry.url}/v2/`);
    expect(res.status).toBe(401);
    expect(header(res.headers, 'www-authenticate')).toMatch(/^Basic realm=/);
  });

  it('accepts the configured user and refuses a wrong password', async () => {
    expect(registry.username).toBe('tester');
    const ok = await send('GET', `${registry.url}/v2/`, {
      authorization: basic(registry.username!, registry.password!),
    });
    expect(ok.status).toBe(200);
    const wrong = await send('GET', `${registry.url}/v2/`, { authorization: basic(registry.username!, 'nope') });
    expect(wrong.status).toBe(401);
  });
});

describe('token registry', () => {
  let registry: RunningRegistry;
  beforeAll(async () => {
    registry = await startRegistry({ auth: 'token' });
  });
  afterAll(async () => {
    await registry.stop();
  });

  it('challenges anonymous requests with the token realm and service', async () => {
    const res = await send('GET', `${registry.url}/v2/`);
    expect(res.status).toBe(401);
    const challenge = header(res.headers, 'www-authenticate');
    expect(challenge).toContain(`Bearer realm="${registry.tokenServer!.realm}"`);
    expect(challenge).toContain('service="test-registry"');
  });

  it('issues tokens that let a client push and pull blobs and manifests', async () => {
    const repo = 'token/push';
    const { status, body } = await fetchToken(registry, [`repository:${repo}:pull,push`]);
    expect(status).toBe(200);
    expect(body.expires_in).toBe(300);
    expect(body.access_token).toBe(body.token);
    const auth = { authorization: `Bearer ${String(body.token)}` };

    const blob = randomBytes(10_000);
    const digest = await pushBlob(registry.url, repo, blob, auth);
    const got = await send('GET', `${registry.url}/v2/${repo}/blobs/${digest}`, auth);
    expect(got.status).toBe(200);
    expect(got.data.equals(blob)).toBe(true);
    await pushManifest(registry.url, repo, 'v1', auth);
  });

  it('grants every scope of a multi-scope request and records it', async () => {
    const scopes = ['repository:multi/a:pull,push', 'repository:multi/b:pull', 'registry:catalog:*'];
    const before = registry.tokenServer!.issued.length;
    const { status, body } = await fetchToken(registry, scopes);
    expect(status).toBe(200);
    const auth = { authorization: `Bearer ${String(body.token)}` };
    await pushBlob(registry.url, 'multi/a', randomBytes(100), auth);
    const catalog = await send('GET', `${registry.url}/v2/_catalog`, auth);
    expect(catalog.status).toBe(200);
    const denied = await send('POST', `${registry.url}/v2/multi/b/blobs/uploads/`, auth);
    expect(denied.status).toBe(401);
    expect(registry.tokenServer!.issued.slice(before)).toEqual([{ scopes, at: expect.any(Number) }]);
  });

  it('refuses a token signed by a key the registry does not trust', async () => {
    const stranger = await startTokenServer({ username: 'tester', password: 'secret-pass' });
    try {
      const forged = stranger.mint(['repository:token/push:pull']);
      const res = await send('GET', `${registry.url}/v2/`, { authorization: `Bearer ${forged}` });
      expect(res.status).toBe(401);
    } finally {
      await stranger.stop();
    }
  });

  it('refuses a wrong password and anonymous token requests', async () => {
    const wrong = await fetchToken(registry, ['repository:x/y:pull'], 'wrong-pass');
    expect(wrong.status).toBe(401);
    const anonymous = await send('GET', `${registry.tokenServer!.realm}?service=test-registry`);
    expect(anonymous.status).toBe(401);
    expect(JSON.parse(anonymous.data.toString())).toHaveProperty('errors');
  });
});

describe('token that dies before its announced expiry', () => {
  let registry: RunningRegistry;
  beforeAll(async () => {
    registry = await startRegistry({ auth: 'token', tokenValidFor: 2 });
  });
  afterAll(async () => {
    await registry.stop();
  });

  it('is refused by the registry after ~3 s while expires_in still says 300', async () => {
    const { body } = await fetchToken(registry, ['repository:short/lived:pull']);
    expect(body.expires_in).toBe(300);
    const auth = { authorization: `Bearer ${String(body.token)}` };
    expect((await send('GET', `${registry.url}/v2/`, auth)).status).toBe(200);
    await until(
      'the token to die',
      async () => ((await send('GET', `${registry.url}/v2/`, auth)).status === 401 ? true : undefined),
      10_000,
      200,
    );
    expect((await send('GET', `${registry.url}/v2/`, auth)).status).toBe(401);
  });
});

describe('fault proxy', () => {
  let registry: RunningRegistry;
  let proxy: FaultProxy;
  beforeAll(async () => {
    registry = await startRegistry();
    proxy = await startFaultProxy(registry.url);
  });
  afterAll(async () => {
    await proxy.stop();
    await registry.stop();
  });
  afterEach(() => {
    proxy.clear();
  });

  it('passes a blob round trip through, with Location pointing back at the proxy', async () => {
    const blob = randomBytes(300_000);
    const opened = await send('POST', `${proxy.url}/v2/proxied/blob/blobs/uploads/`);
    expect(opened.status).toBe(202);
    expect(header(opened.headers, 'location').startsWith(`${proxy.url}/v2/proxied/blob/blobs/uploads/`)).toBe(true);
    const digest = await pushBlob(proxy.url, 'proxied/blob', blob);
    const got = await send('GET', `${proxy.url}/v2/proxied/blob/blobs/${digest}`);
    expect(got.status).toBe(200);
    expect(got.data.equals(blob)).toBe(true);
    const put = proxy.requests.find((r) => r.method === 'PUT');
    expect(put).toMatchObject({ status: 201 });
    expect(put!.path).toContain(`digest=${encodeURIComponent(digest)}`);
  });

  it('answers an injected 503 with Retry-After once, then passes through', async () => {
    proxy.inject({ method: 'GET', path: /^\/v2\/$/, fault: { status: 503, retryAfter: 2 } });
    const faulted = await send('GET', `${proxy.url}/v2/`);
    expect(faulted.status).toBe(503);
    expect(header(faulted.headers, 'retry-after')).toBe('2');
    expect(JSON.parse(faulted.data.toString()).errors[0].code).toBe('UNAVAILABLE');
    expect((await send('GET', `${proxy.url}/v2/`)).status).toBe(200);
    expect(proxy.requests.slice(-2)).toEqual([
      {
        method: 'GET',
        path: '/v2/',
        status: 503,
        faulted: 'status',
        at: expect.any(Number),
        endedAt: expect.any(Number),
      },
      { method: 'GET', path: '/v2/', status: 200, at: expect.any(Number), endedAt: expect.any(Number) },
    ]);
  });

  it('honours after and times', async () => {
    proxy.inject({ path: /^\/v2\/$/, after: 1, times: 2, fault: { status: 500 } });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await send('GET', `${proxy.url}/v2/`)).status);
    expect(statuses).toEqual([200, 500, 500, 200]);
  });

  it('resets the connection', async () => {
    proxy.inject({ path: /^\/v2\/$/, fault: { reset: true } });
    await expect(send('GET', `${proxy.url}/v2/`)).rejects.toThrow();
    expect(proxy.requests.at(-1)).toMatchObject({ path: '/v2/', faulted: 'reset', status: 0 });
    expect((await send('GET', `${proxy.url}/v2/`)).status).toBe(200);
  });

  it('truncates a response body after N bytes', async () => {
    const blob = randomBytes(200_000);
    const digest = await pushBlob(registry.url, 'proxied/truncated', blob);
    proxy.inject({ method: 'GET', path: /\/blobs\/sha256:/, fault: { truncateAfterBytes: 1000 } });
    const res = await request(`${proxy.url}/v2/proxied/truncated/blobs/${digest}`, { dispatcher: agent });
    expect(res.statusCode).toBe(200);
    expect(header(res.headers, 'content-length')).toBe(String(blob.length));
    let received = 0;
    let failure: unknown;
    try {
      for await (const chunk of res.body) received += (chunk as Buffer).length;
    } catch (err) {
      failure = err;
    }
    expect(failure).toBeDefined();
    expect(received).toBe(1000);
  });

  it('delays a request before forwarding it', async () => {
    proxy.inject({ path: /^\/v2\/$/, fault: { delayMs: 400 } });
    const started = Date.now();
    expect((await send('GET', `${proxy.url}/v2/`)).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(380);
    expect(proxy.requests.at(-1)).toMatchObject({ faulted: 'delay', status: 200 });
  });
});
