// Owns the self-signed certificate of a hostile test peer (certificates.ts makes it, as the token server's), for
// the loopback address the peer listens on (and `localhost`), so a client can trust it as a private CA.
import { selfSignedCertificate } from '../certificates.js';
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
    const { keyPath, certPath } = selfSignedCertificate(dir, 'peer', {
      subject: `/CN=${address}`,
      altNames: `IP:${address},DNS:localhost`,
      purpose: "the hostile peer's certificate",
    });
    return { key: await readFile(keyPath, 'utf8'), cert: await readFile(certPath, 'utf8') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
