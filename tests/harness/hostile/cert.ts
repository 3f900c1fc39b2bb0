// Owns the self-signed certificate of a hostile test peer: made with openssl, as the token server's is, for
// the loopback address the peer listens on (and `localhost`), so a client can trust it as a private CA.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PeerCert {
  key: string;
  cert: string;
}

export async function makePeerCert(address: string): Promise<PeerCert> {
  const dir = await mkdtemp(join(tmpdir(), 'swr-harbor-sync-hostile-'));
  try {
    const keyPath = join(dir, 'key.pem');
    const certPath = join(dir, 'cert.pem');
    const result = spawnSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-subj',
        `/CN=${address}`,
        '-addext',
        `subjectAltName=IP:${address},DNS:localhost`,
        '-days',
        '2',
        '-keyout',
        keyPath,
        '-out',
        certPath,
      ],
      { encoding: 'utf8' },
    );
    if (result.error || result.status !== 0)
      throw new Error(
        `openssl could not make the hostile peer's certificate: ${result.error?.message ?? result.stderr}`,
      );
    return { key: await readFile(keyPath, 'utf8'), cert: await readFile(certPath, 'utf8') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
