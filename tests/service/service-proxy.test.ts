// Behind a corporate proxy: the service syncs to an https registry through a real proxy (tinyproxy) by CONNECT,
// TLS end to end with SWRCACert, while Harbor on the local network is reached directly (NoProxy); a proxy that
// asks for Basic credentials gets them, never shown anywhere; a proxy that refuses fails the job naming it.
import { readdir, readFile } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { RegistryClient } from '../../src/oci/index.js';
import { ProxyRoutes } from '../../src/oci/proxy.js';
import { selfSignedCertificate, type CertificateFiles } from '../harness/certificates.js';
import { startHarbor, type HarborStandIn } from '../harness/harbor/index.js';
import { pushImage } from '../harness/images.js';
import { startProxy, type RunningProxy } from '../harness/proxy.js';
import { startRegistry, type RunningRegistry } from '../harness/registry.js';
import { settled, startServiceUnderTest, waitForJobs, type ServiceUnderTest } from '../harness/service.js';

const PROXY_USER = 'egress-user';
const PROXY_PASSWORD = 'proxy-pass-Zq81xw';

let dir: string;
let cert: CertificateFiles;
let harbor: HarborStandIn;
let dst: RunningRegistry;
let proxy: RunningProxy;
let guarded: RunningProxy;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'swr-harbor-sync-proxy-test-'));
  cert = selfSignedCertificate(dir, 'registry', {
    subject: '/CN=127.0.0.1',
    altNames: 'IP:127.0.0.1',
    purpose: 'the certificate of the registry behind the proxy',
  });
  [harbor, dst, proxy, guarded] = await Promise.all([
    startHarbor({ projects: [{ name: 'proj', public: false }] }),
    startRegistry({
      tls: { certificate: cert.certPath, key: cert.keyPath },
      // Each request's peer address, in the access log (Apache's combined format).
      extraConfig: { log: { accesslog: { disabled: false } } },
    }),
    startProxy(),
    startProxy({ basicAuth: { user: PROXY_USER, password: PROXY_PASSWORD } }),
  ]);
  await pushImage(harbor.access, 'proj/app', 'v1', { format: 'docker', layers: [{ seed: 'proxied', size: 30_000 }] });
});

afterAll(async () => {
  await Promise.all([harbor?.stop(), dst?.stop(), proxy?.stop(), guarded?.stop()]);
  await rm(dir, { recursive: true, force: true });
});

/** A service whose destination is the https registry, through `proxyUrl`, with Harbor (loopback) in NoProxy. */
function serviceBehind(proxyUrl: string, extra: Record<string, string> = {}): Promise<ServiceUnderTest> {
  return startServiceUnderTest(harbor.host, dst.host, {
    SWRProtocol: 'https',
    SWRCACert: cert.certPath,
    Proxy: proxyUrl,
    // The registry is on 127.0.0.1 too: the port tells Harbor apart.
    NoProxy: `${harbor.host}`,
    ...extra,
  });
}

async function syncProject(sut: ServiceUnderTest, namespace: string) {
  const res = await fetch(`${sut.url}/api/v1/sync`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ project: 'proj', namespace }),
  });
  expect(res.status).toBe(202);
  const jobs = await waitForJobs(
    sut.url,
    'proj',
    (all) => settled(all, 1) && all.some((j) => j.spec.namespace === namespace),
  );
  return jobs.find((j) => j.spec.namespace === namespace)!;
}

/** Peer addresses of the requests the registry logged after the first `from` characters of its log. */
async function registryPeers(from: number): Promise<string[]> {
  const log = (await readFile(dst.logPath, 'utf8')).slice(from);
  return [...log.matchAll(/^(\S+) - \S* \[[^\]]+\] "[A-Z]+ \/v2\//gm)].map((m) => m[1]);
}

/** Everything the service wrote to its log directory. */
async function allLogs(sut: ServiceUnderTest): Promise<string> {
  const files = await readdir(sut.logDir);
  return (await Promise.all(files.map((f) => readFile(join(sut.logDir, f), 'utf8')))).join('\n');
}

test('a sync reaches the https registry only through the proxy (CONNECT), while Harbor in NoProxy is direct', async () => {
  const sut = await serviceBehind(proxy.url);
  const logStart = (await readFile(dst.logPath, 'utf8')).length;
  try {
    const job = await syncProject(sut, 'through');
    expect(job).toMatchObject({ state: 'succeeded' });
    // The proxy opened tunnels to the registry and none to Harbor.
    const tunnels = await proxy.tunnels();
    expect(tunnels).toContain(dst.host);
    expect(tunnels).not.toContain(harbor.host);
    // Every request the registry saw came from the proxy's address: no direct connection.
    const peers = await registryPeers(logStart);
    expect(peers.length).toBeGreaterThan(3);
    expect(new Set(peers)).toEqual(new Set([proxy.outgoingAddress]));
    // The start-up log says where each endpoint's connections go.
    const log = await allLogs(sut);
    expect(log).toContain(`route to Harbor ${harbor.host}: direct (NoProxy has ${harbor.host})`);
    expect(log).toContain(`route to SWR registry ${dst.host}: through ${proxy.url} (Proxy)`);
  } finally {
    await sut.stop();
  }
  // TLS was end to end: the image is there, read back directly with the registry's certificate.
  const client = new RegistryClient({ host: dst.host, caCertificate: await readFile(cert.certPath, 'utf8') });
  try {
    expect(await client.headManifest('through/app', 'v1')).toBeDefined();
  } finally {
    await client.close();
  }
});

test('a proxy that asks for Basic credentials gets them from the URL, and they appear in no log or answer', async () => {
  const sut = await serviceBehind(guarded.urlWith(PROXY_USER, PROXY_PASSWORD));
  try {
    const job = await syncProject(sut, 'with-credentials');
    expect(job).toMatchObject({ state: 'succeeded' });
    expect(await guarded.tunnels()).toContain(dst.host);
    const answers = JSON.stringify(await (await fetch(`${sut.url}/api/v1/jobs?project=proj`)).json());
    const basic = Buffer.from(`${PROXY_USER}:${PROXY_PASSWORD}`).toString('base64');
    for (const text of [answers, await allLogs(sut)]) {
      expect(text).not.toContain(PROXY_PASSWORD);
      expect(text).not.toContain(basic);
    }
  } finally {
    await sut.stop();
  }
});

test('a proxy that refuses the tunnel fails the job with an error naming the proxy, never its credentials', async () => {
  const wrong = 'not-the-password-77';
  const sut = await serviceBehind(guarded.urlWith(PROXY_USER, wrong), { JobRetries: '0' });
  try {
    const job = await syncProject(sut, 'refused');
    expect(job.state).toBe('failed');
    expect(job.error).toContain(`the proxy ${guarded.url} refused to open a tunnel to ${dst.host} (HTTP 401)`);
    expect(job.error).toMatch(/check the user and password in the proxy URL/);
    // The readiness ping goes through the proxy too, and says why the destination cannot be reached.
    const ready = (await (await fetch(`${sut.url}/readyz`)).json()) as {
      checks: Record<string, { ok: boolean; message: string }>;
    };
    expect(ready.checks.destination.ok).toBe(false);
    expect(ready.checks.destination.message).toContain(`the proxy ${guarded.url} refused to open a tunnel`);
    const text = `${JSON.stringify(job)}\n${JSON.stringify(ready)}\n${await allLogs(sut)}`;
    expect(text).not.toContain(wrong);
    expect(text).not.toContain(PROXY_USER);
  } finally {
    await sut.stop();
  }
});

test("through the proxy the registry's certificate is still checked end to end: untrusted without its CA", async () => {
  const client = new RegistryClient({
    host: dst.host,
    proxies: new ProxyRoutes({ https: { url: proxy.url, from: 'Proxy' } }),
    retry: { retries: 0 },
  });
  const before = (await proxy.tunnels()).length;
  try {
    await expect(client.ping()).rejects.toMatchObject({ code: 'TLS_UNTRUSTED' });
  } finally {
    await client.close();
  }
  expect((await proxy.tunnels()).slice(before)).toContain(dst.host);
});
