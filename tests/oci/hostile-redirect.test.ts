// Credentials follow a redirect or Location only to the registry's own origin (scheme, host in any case,
// port with defaults filled in): never over http from an https registry, and always to `LOCALHOST` or `host:443`.
import { afterEach, expect, test } from '@jest/globals';
import { RegistryClient } from '../../src/oci/index.js';
import { otherLoopback, startHostilePeer, type Answer, type HostilePeer } from '../harness/hostile/peer.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const started: { close(): Promise<unknown> }[] = [];

afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.close()));
});

async function peer(options: { address?: string; port?: number } = {}): Promise<HostilePeer> {
  const made = await startHostilePeer(options);
  started.push({ close: () => made.stop() });
  return made;
}

function client(host: string, options: { insecure?: boolean; ca?: string } = {}): RegistryClient {
  const made = new RegistryClient({
    host,
    insecure: options.insecure,
    caCertificate: options.ca,
    credentials: { username: 'robot', password: 'redirect-pass' },
    push: true,
    retry: { retries: 0 },
  });
  started.push({ close: () => made.close(true) });
  return made;
}

/** A registry wanting Basic: 401 until a request carries it, then `then`. */
function basicRegistry(registry: HostilePeer, then: (url: URL) => Answer | undefined): void {
  registry.script((req, url) =>
    req.headers.authorization ? then(url) : { status: 401, headers: { 'www-authenticate': 'Basic realm="hostile"' } },
  );
}

test('a blob redirect from https to http on the same host and port carries no Authorization', async () => {
  const registry = await peer();
  const bytes = Buffer.from('layer bytes');
  basicRegistry(registry, (url) =>
    url.pathname === `/v2/app/blobs/${DIGEST}`
      ? { status: 307, headers: { location: `${registry.httpUrl}/storage/blob` } }
      : undefined,
  );
  // Object storage answers anyone (asked before the registry's script: newest first).
  registry.script((_req, url) =>
    url.pathname === '/storage/blob'
      ? { status: 200, headers: { 'content-length': String(bytes.length) }, body: bytes }
      : undefined,
  );
  const chunks: Buffer[] = [];
  for await (const chunk of client(registry.host, { ca: registry.cert }).readBlob(
    'app',
    { mediaType: 'application/octet-stream', digest: DIGEST, size: bytes.length },
    { maxResumes: 0 },
  ))
    chunks.push(chunk);
  expect(Buffer.concat(chunks).toString()).toBe('layer bytes');
  const plain = registry.requests.filter((r) => r.scheme === 'http');
  expect(plain.map((r) => r.url)).toEqual(['/storage/blob']);
  expect(plain[0].headers.authorization).toBeUndefined();
});

test('an upload Location on http (same host and port as the https registry) gets the blob but no Authorization', async () => {
  const registry = await peer();
  basicRegistry(registry, (url) =>
    url.pathname === '/v2/app/blobs/uploads/'
      ? { status: 202, headers: { location: `${registry.httpUrl}/upload/1` } }
      : undefined,
  );
  registry.script((_req, url) => (url.pathname === '/upload/1' ? { status: 201 } : undefined));
  const destination = client(registry.host, { ca: registry.cert });
  const session = await destination.startUpload('app');
  expect(session.kind).toBe('session');
  if (session.kind !== 'session') return;
  async function* body() {
    yield Buffer.from('x');
  }
  await destination.putBlob(
    'app',
    session.location,
    { mediaType: 'application/octet-stream', digest: DIGEST, size: 1 },
    body(),
  );
  const plain = registry.requests.filter((r) => r.scheme === 'http');
  expect(plain.map((r) => r.method)).toEqual(['PUT']);
  expect(plain[0].headers.authorization).toBeUndefined();
});

test('a host configured in capitals (LOCALHOST:port) gets its credentials', async () => {
  const registry = await peer();
  basicRegistry(registry, () => ({ status: 200, body: '{}' }));
  await client(`LOCALHOST:${registry.port}`, { insecure: true }).ping();
  expect(registry.requests.some((r) => r.headers.authorization?.startsWith('Basic '))).toBe(true);
});

test('a host configured with its default port written out (address:443) gets its credentials', async () => {
  // A loopback address of its own, so that binding :443 clashes with nobody.
  const registry = await peer({ address: otherLoopback(), port: 443 });
  basicRegistry(registry, () => ({ status: 200, body: '{}' }));
  await client(`${registry.address}:443`, { ca: registry.cert }).ping();
  expect(registry.requests.some((r) => r.scheme === 'https' && r.headers.authorization?.startsWith('Basic '))).toBe(
    true,
  );
});
