// Owns the one failure where http vs https is certain: a registry that answered in the other protocol. It is not
// transient (no retry helps), and the fix is a setting the caller owns: the caller names it (a flag, a
// configuration key), so this client says what to change without knowing who is calling.
import { RegistryError, type ErrorContext } from './errors.js';

/** What the caller tells a user to do to talk plain HTTP, or HTTPS, to this registry. */
export interface ProtocolSetting {
  /** E.g. `add --insecure-dst`, `set SWRProtocol=http`. */
  toHttp: string;
  /** E.g. `leave out --insecure-dst`, `set SWRProtocol=https`. */
  toHttps: string;
}

/** The protocol a transport speaks to its host, and the caller's words for changing it. */
export interface ProtocolUse {
  insecure: boolean;
  setting?: ProtocolSetting;
}

const GENERIC: ProtocolSetting = { toHttp: 'use plain HTTP for it', toHttps: 'use HTTPS for it' };

// OpenSSL's codes when a TLS handshake meets a plain-HTTP answer (Node reports them as ERR_SSL_<REASON>).
const HTTPS_TO_PLAIN = new Set([
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'ERR_SSL_PACKET_LENGTH_TOO_LONG',
  'ERR_SSL_UNKNOWN_PROTOCOL',
  'ERR_SSL_HTTP_REQUEST',
]);

// What TLS servers answer to plain HTTP: Go's (Distribution, Harbor) and nginx's.
const PLAIN_TO_HTTPS = /HTTP request to an HTTPS server|plain HTTP request was sent to HTTPS port/i;

function mismatch(ctx: ErrorContext, protocol: ProtocolUse | undefined, detail: string, cause?: unknown) {
  const setting = protocol?.setting ?? GENERIC;
  const speaks = protocol?.insecure ? 'HTTPS, not plain HTTP' : 'plain HTTP, not HTTPS';
  return new RegistryError({
    code: 'TLS_MISMATCH',
    status: 0,
    host: ctx.host,
    repository: ctx.repository,
    digest: ctx.digest,
    reference: ctx.reference,
    message: `${ctx.action} ${ctx.host} failed: it speaks ${speaks} (${detail})`,
    hint: protocol?.insecure ? setting.toHttps : setting.toHttp,
    retryable: false,
    cause,
  });
}

/** A connection error that is a TLS handshake answered in plain HTTP, as the error to throw; else undefined. */
export function mismatchFromNetwork(
  code: string | undefined,
  ctx: ErrorContext,
  protocol: ProtocolUse | undefined,
  cause: unknown,
): RegistryError | undefined {
  if (protocol?.insecure || !code || !HTTPS_TO_PLAIN.has(code)) return undefined;
  return mismatch(ctx, protocol, code, cause);
}

/** A TLS server's refusal of a plain-HTTP request (a 400 saying so), as the error to throw; else undefined. */
export function mismatchFromAnswer(
  status: number,
  body: string,
  ctx: ErrorContext,
  protocol: ProtocolUse | undefined,
): RegistryError | undefined {
  if (!protocol?.insecure || status !== 400 || !PLAIN_TO_HTTPS.test(body)) return undefined;
  return mismatch(ctx, protocol, `it answered 400 to plain HTTP`);
}
