// Typed registry errors: what failed (code, status, host, repository, digest) and what the user should do about it.
import { peerText } from './peer-text.js';
import { proxyFailureOf, type ProxyErrorCode } from './proxy-error.js';

/** Codes of the Distribution spec's error bodies that this project decides on or gives advice for. */
export type DistributionErrorCode =
  | 'UNAUTHORIZED'
  | 'DENIED'
  | 'UNSUPPORTED'
  | 'NAME_INVALID'
  | 'NAME_UNKNOWN'
  | 'MANIFEST_UNKNOWN'
  | 'MANIFEST_INVALID'
  | 'MANIFEST_BLOB_UNKNOWN'
  | 'BLOB_UNKNOWN'
  | 'DIGEST_INVALID'
  | 'SIZE_INVALID'
  | 'TOOMANYREQUESTS';

/** Codes this client gives the failures it finds itself (no answer, a damaged or unusable one, a refused name). */
export type ClientErrorCode =
  | 'NETWORK'
  | 'TIMEOUT'
  | 'TLS_UNTRUSTED'
  | 'TLS_MISMATCH'
  | 'HOST_UNRESOLVED'
  | 'BODY_TOO_LARGE'
  | 'MANIFEST_TOO_LARGE'
  | 'MANIFEST_UNSUPPORTED'
  | 'UNSUPPORTED_SCHEMA1'
  | 'DIGEST_MISMATCH'
  | 'RANGE_INVALID'
  | 'UPLOAD_INVALID'
  | 'LISTING_INVALID'
  | 'LISTING_TOO_LARGE'
  | 'MANIFEST_TREE_TOO_LARGE'
  | 'REFERRERS_INVALID'
  | 'TOKEN_INVALID'
  | 'TOKEN_REALM_INVALID'
  | 'TOKEN_REALM_REFUSED'
  | 'PLATFORM_NOT_FOUND'
  | ProxyErrorCode;

/**
 * The codes this project gives or decides on. A RegistryError's `code` may also be any other code a
 * registry sent (kept as it came, when it looks like a code), so decisions go through `hasCode`, whose
 * arguments the compiler checks against this list.
 */
export type RegistryErrorCode = DistributionErrorCode | ClientErrorCode | `HTTP_${number}` | `TOKEN_HTTP_${number}`;

export interface RegistryErrorFields {
  /** A registry's own code is passed on as it came (see `errorFromResponse`); ours are from the list. */
  code: RegistryErrorCode;
  status: number;
  host: string;
  repository?: string;
  digest?: string;
  reference?: string;
  message: string;
  hint?: string;
  retryable?: boolean;
  cause?: unknown;
}

export class RegistryError extends Error {
  /** A RegistryErrorCode, or a code a registry sent that this project does not know. */
  readonly code: string;
  readonly status: number;
  readonly host: string;
  readonly repository?: string;
  readonly digest?: string;
  readonly reference?: string;
  readonly hint?: string;
  readonly retryable: boolean;

  constructor(fields: RegistryErrorFields) {
    super(fields.hint ? `${fields.message}: ${fields.hint}` : fields.message, { cause: fields.cause });
    this.name = 'RegistryError';
    this.code = fields.code;
    this.status = fields.status;
    this.host = fields.host;
    this.repository = fields.repository;
    this.digest = fields.digest;
    this.reference = fields.reference;
    this.hint = fields.hint;
    this.retryable = fields.retryable ?? false;
  }
}

export interface ErrorContext {
  host: string;
  repository?: string;
  digest?: string;
  reference?: string;
  /** What the request was for, e.g. "push manifest", to start the message. */
  action: string;
}

interface WireError {
  code?: string;
  message?: string;
  detail?: unknown;
}

/** The Distribution error body `{"errors":[{code,message,detail}]}`, or whatever text the server sent. */
export function parseErrorBody(body: string): { code?: string; message?: string } {
  try {
    const parsed = JSON.parse(body) as { errors?: WireError[] } | WireError[];
    const first = Array.isArray(parsed) ? parsed[0] : parsed.errors?.[0];
    if (first && typeof first === 'object') {
      const raw = first as Record<string, unknown>;
      const code = (raw.code ?? raw.errorCode) as string | undefined;
      const message = (raw.message ?? raw.errorMessage) as string | undefined;
      return { code: code ? String(code) : undefined, message: message ? String(message) : undefined };
    }
  } catch {
    // not JSON: fall through to the text
  }
  const text = body.replace(/\s+/g, ' ').trim().slice(0, 200);
  return { message: text || undefined };
}

/** Whether `error` is a RegistryError with one of these codes. */
export function hasCode(error: unknown, ...codes: RegistryErrorCode[]): error is RegistryError {
  return error instanceof RegistryError && (codes as string[]).includes(error.code);
}

const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504]);

export function isRetryableStatus(status: number): boolean {
  return RETRYABLE_STATUS.has(status);
}

function hintFor(code: string, status: number, ctx: ErrorContext): string | undefined {
  switch (code as RegistryErrorCode) {
    case 'UNAUTHORIZED':
      return `check the credentials used for ${ctx.host}`;
    case 'DENIED':
      return `the account used for ${ctx.host} is not allowed to do this on ${ctx.repository ?? 'the registry'}; grant it pull/push rights or use another account`;
    case 'NAME_UNKNOWN':
      return `repository ${ctx.repository} does not exist on ${ctx.host}; check the name`;
    case 'MANIFEST_UNKNOWN':
      return `${ctx.repository}:${ctx.reference ?? ctx.digest} does not exist on ${ctx.host}; check the tag`;
    case 'BLOB_UNKNOWN':
      return `the registry does not have this blob; the source image may be incomplete`;
    case 'MANIFEST_BLOB_UNKNOWN':
      return `the registry is missing a blob this manifest refers to; copy the blobs first (the copy retries this once by itself)`;
    case 'MANIFEST_INVALID':
      return `the destination refused this manifest format; see ManifestFormat / --format to convert it`;
    case 'DIGEST_INVALID':
      return `the bytes received did not match the digest; the source blob may be damaged`;
    case 'SIZE_INVALID':
      return `the blob size did not match its descriptor`;
    case 'TOOMANYREQUESTS':
      return `the registry is rate limiting; lower the request rate or concurrency`;
    default:
      break;
  }
  if (status === 401) return `authentication failed at ${ctx.host}; check the credentials`;
  if (status === 403) return `access denied by ${ctx.host}; check the account's permissions`;
  if (status === 413)
    return `the registry or a proxy in front of it refused the body size; raise its body size limit (e.g. nginx client_max_body_size)`;
  if (status === 429 || status === 503)
    return `${ctx.host} is overloaded or rate limiting; it was retried with backoff`;
  if (status >= 500) return `${ctx.host} failed internally; it was retried, check the registry's health`;
  return undefined;
}

// A peer's error code becomes ours (and picks the hint) only when it looks like one.
const WIRE_CODE = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;

export function errorFromResponse(
  status: number,
  body: string,
  ctx: ErrorContext,
  override: { retryable?: boolean } = {},
): RegistryError {
  const wire = parseErrorBody(body);
  const parsed = {
    code: wire.code && WIRE_CODE.test(wire.code) ? wire.code : undefined,
    message: wire.message ? peerText(wire.message) : undefined,
  };
  // A registry's code passes through as it came: the list names the ones this project knows.
  const code = (parsed.code ??
    (status === 401 ? 'UNAUTHORIZED' : status === 403 ? 'DENIED' : `HTTP_${status}`)) as RegistryErrorCode;
  const target = ctx.repository ? `${ctx.host}/${ctx.repository}` : ctx.host;
  const what = ctx.digest ?? ctx.reference;
  const message = `${ctx.action} ${target}${what ? ` (${what})` : ''} failed: ${status} ${code}${parsed.message ? ` ${parsed.message}` : ''}`;
  return new RegistryError({
    code,
    status,
    host: ctx.host,
    repository: ctx.repository,
    digest: ctx.digest,
    reference: ctx.reference,
    message,
    hint: hintFor(code, status, ctx),
    retryable: override.retryable ?? isRetryableStatus(status),
  });
}

const TLS_TRUST_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** The system or library code of a failed connection (`ECONNREFUSED`, `ENOTFOUND`, `ERR_SSL_...`), if any. */
export function connectionErrorCode(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException)?.code ?? (error as { cause?: NodeJS.ErrnoException })?.cause?.code;
  return typeof code === 'string' ? code : undefined;
}

// The resolver's answers: no such name (ENOTFOUND), or no answer now (EAI_AGAIN).
const UNRESOLVED_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN']);

export function networkError(error: unknown, ctx: ErrorContext): RegistryError {
  const proxy = proxyFailureOf(error);
  if (proxy)
    return new RegistryError({
      code: proxy.code,
      status: 0,
      host: ctx.host,
      repository: ctx.repository,
      digest: ctx.digest,
      reference: ctx.reference,
      message: `${ctx.action} ${ctx.host} failed: ${proxy.message}`,
      retryable: proxy.retryable,
      cause: error,
    });
  const code = connectionErrorCode(error);
  if (code && UNRESOLVED_CODES.has(code)) {
    const name = ctx.host.replace(/:\d+$/, '');
    return new RegistryError({
      code: 'HOST_UNRESOLVED',
      status: 0,
      host: ctx.host,
      repository: ctx.repository,
      digest: ctx.digest,
      reference: ctx.reference,
      message: `${ctx.action} ${ctx.host} failed: cannot resolve host ${name} (${code})`,
      hint: `check the host name and this machine's DNS`,
      // The service retries (a resolver may come back); a command line gives up sooner (RetryOptions).
      retryable: true,
      cause: error,
    });
  }
  const timedOut = (error as Error)?.name === 'TimeoutError' || code === 'UND_ERR_HEADERS_TIMEOUT';
  const reason = timedOut
    ? 'no answer in time'
    : error instanceof Error
      ? (code ?? peerText(error.message))
      : peerText(String(error));
  if (code && TLS_TRUST_CODES.has(code)) {
    return new RegistryError({
      code: 'TLS_UNTRUSTED',
      status: 0,
      host: ctx.host,
      repository: ctx.repository,
      message: `${ctx.action} ${ctx.host} failed: its TLS certificate is not trusted (${code})`,
      hint: `give the certificate of the CA that signed it (HarborCACert / SWRCACert), or skip verification (HarborInsecure / SWRInsecure) if you accept the risk`,
      cause: error,
    });
  }
  return new RegistryError({
    code: 'NETWORK',
    status: 0,
    host: ctx.host,
    repository: ctx.repository,
    digest: ctx.digest,
    reference: ctx.reference,
    message: `${ctx.action} ${ctx.host} failed: ${reason}`,
    hint: `check that ${ctx.host} is reachable from here (address, port, http vs https, firewall)`,
    retryable: true,
    cause: error,
  });
}
