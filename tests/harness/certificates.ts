// Owns making a self-signed EC certificate with openssl for the tests' own servers (the token server's
// signing key, hostile TLS peers), so each asks for one by its subject and names instead of spelling openssl out.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export interface CertificateFiles {
  keyPath: string;
  certPath: string;
}

/** Writes `<name>-key.pem` and `<name>-cert.pem` into `dir`, valid for two days. */
export function selfSignedCertificate(
  dir: string,
  name: string,
  options: { subject: string; altNames?: string; purpose: string },
): CertificateFiles {
  const keyPath = join(dir, `${name}-key.pem`);
  const certPath = join(dir, `${name}-cert.pem`);
  const args = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  args.push('-subj', options.subject, ...(options.altNames ? ['-addext', `subjectAltName=${options.altNames}`] : []));
  args.push('-days', '2', '-keyout', keyPath, '-out', certPath);
  const result = spawnSync('openssl', args, { encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    throw new Error(`openssl could not make ${options.purpose}: ${result.error?.message ?? result.stderr}`);
  }
  return { keyPath, certPath };
}
