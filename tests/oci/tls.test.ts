// TLS towards a registry: certificates verified by default, a private CA trusted when given, verification
// skipped only when asked; against a real registry serving HTTPS with a certificate from a test CA.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { CopyEngine } from '../../src/copy/index.js';
import { ConfigError, parseConfig } from '../../src/config/config.js';
import { RegistryClient } from '../../src/oci/index.js';
import { clientFor } from '../harness/clients.js';
import { pushImage } from '../harness/images.js';
import { startRegistry, type RunningRegistry } from '../harness/registry.js';

let dir: string;
let src: RunningRegistry;
let secure: RunningRegistry;
let caPem: string;

function openssl(args: string[]): void {
  const run = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${run.stderr}`);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'swr-harbor-sync-tls-'));
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl([
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '2',
    '-subj',
    '/CN=swr-harbor-sync test CA',
  ]);
  openssl(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  await writeFile(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n');
  openssl([
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.pem',
    '-days',
    '2',
    '-extfile',
    'ext.cnf',
  ]);
  caPem = readFileSync(join(dir, 'ca.pem'), 'utf8');
  [src, secure] = await Promise.all([
    startRegistry(),
    startRegistry({ tls: { certificate: join(dir, 'server.pem'), key: join(dir, 'server.key') } }),
  ]);
  await pushImage(src, 'tls/app', 'v1', { format: 'docker', layers: [{ seed: 'tls', size: 20_000 }] });
});

afterAll(async () => {
  await Promise.all([src?.stop(), secure?.stop()]);
  await rm(dir, { recursive: true, force: true });
});

async function copyTo(options: { caCertificate?: string; skipTlsVerify?: boolean }, repo: string) {
  const source = clientFor(src);
  const destination = new RegistryClient({ host: secure.host, push: true, retry: { retries: 0 }, ...options });
  try {
    return await new CopyEngine({ blobRetries: 0 }).copyImage(
      { client: source, repository: 'tls/app', reference: 'v1' },
      { client: destination, repository: repo, tag: 'v1' },
    );
  } finally {
    await Promise.all([source.close(), destination.close()]);
  }
}

test('an untrusted certificate fails with a reason that names the CA and insecure settings', async () => {
  const result = await copyTo({}, 'tls/untrusted');
  expect(result.status).toBe('failed');
  expect(result.errorCode).toBe('TLS_UNTRUSTED');
  expect(result.reason).toMatch(/TLS certificate is not trusted .*SWRCACert.*SWRInsecure/);
});

test('the private CA makes the registry trusted, and the copy lands', async () => {
  const result = await copyTo({ caCertificate: caPem }, 'tls/trusted');
  expect(result.status).toBe('copied');
  // The fixtures' own client does not trust the test CA: read the result back through ours, with the CA.
  const client = new RegistryClient({ host: secure.host, caCertificate: caPem });
  try {
    expect((await client.headManifest('tls/trusted', 'v1'))?.digest).toBe(result.destinationDigest);
  } finally {
    await client.close();
  }
});

test('skipping verification works when asked for', async () => {
  expect((await copyTo({ skipTlsVerify: true }, 'tls/skipped')).status).toBe('copied');
});

test('HarborCACert / SWRCACert must be readable PEM files', async () => {
  const base = {
    HWAuthMethod: 'AKSK',
    HWAK: 'A',
    HWSK: 'B',
    RegionName: 'cn-north-4',
    HarborAddr: 'h.example',
    NamespaceMap: 'p:ns',
  };
  expect(parseConfig({ ...base, SWRCACert: join(dir, 'ca.pem'), HarborInsecure: 'true' })).toMatchObject({
    swr: { caCertificate: caPem },
    harbor: { skipTlsVerify: true },
  });
  await writeFile(join(dir, 'not-pem.txt'), 'hello');
  const failure = (() => {
    try {
      parseConfig({ ...base, SWRCACert: join(dir, 'not-pem.txt'), HarborCACert: join(dir, 'missing.pem') });
    } catch (error) {
      return error;
    }
    return undefined;
  })() as ConfigError;
  expect(failure).toBeInstanceOf(ConfigError);
  // Both, whatever the order (the destination's keys are read before Harbor's).
  expect([...failure.problems].sort()).toEqual([
    expect.stringMatching(/^HarborCACert points at .*missing\.pem, which cannot be read \(ENOENT\)$/),
    expect.stringMatching(/^SWRCACert must be a PEM file with a CA certificate; .*not-pem\.txt holds none$/),
  ]);
});
