// Owns the TLS settings of a connection to a registry or Harbor: verification off, or a private CA added to
// the system's roots. Applied by the connection pool (proxy-pool.ts), directly or inside a proxy's tunnel.
import { rootCertificates } from 'node:tls';

export function tlsOptions(options: {
  skipTlsVerify?: boolean;
  caCertificate?: string;
}): { rejectUnauthorized?: boolean; ca?: string[] } | undefined {
  if (options.skipTlsVerify) return { rejectUnauthorized: false };
  // Node replaces its CA list when `ca` is given, so the system's roots come along with the private one.
  if (options.caCertificate) return { ca: [...rootCertificates, options.caCertificate] };
  return undefined;
}
