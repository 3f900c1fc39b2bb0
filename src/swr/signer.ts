// Huawei Cloud API Gateway request signing ("SDK-HMAC-SHA256"), used for SWR management calls with an AK/SK.
import { createHash, createHmac } from 'node:crypto';

export interface SignableRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: string;
}

export const SIGNING_ALGORITHM = 'SDK-HMAC-SHA256';

/** `YYYYMMDDTHHMMSSZ` in UTC, the X-Sdk-Date format. */
export function sdkDate(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/** RFC 3986 unreserved characters stay; everything else is %XX with uppercase hex. */
function encode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function canonicalUri(path: string): string {
  const encoded = path
    .split('/')
    .map((segment) => encode(decodeURIComponent(segment)))
    .join('/');
  // The gateway signs the path with a trailing slash whether or not the request has one.
  return encoded.endsWith('/') ? encoded : `${encoded}/`;
}

function canonicalQuery(url: URL): string {
  const pairs = [...url.searchParams.entries()].map(([k, v]) => [encode(k), encode(v)] as const);
  pairs.sort(([ka, va], [kb, vb]) => (ka === kb ? (va < vb ? -1 : va > vb ? 1 : 0) : ka < kb ? -1 : 1));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

function hostOf(url: URL): string {
  const defaultPort =
    (url.protocol === 'https:' && url.port === '443') || (url.protocol === 'http:' && url.port === '80');
  return defaultPort || url.port === '' ? url.hostname : `${url.hostname}:${url.port}`;
}

export function canonicalRequest(request: SignableRequest, signedHeaders: string[]): string {
  const lower = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), v.trim()]));
  lower.host ??= hostOf(request.url);
  const headerLines = signedHeaders.map((name) => `${name}:${lower[name] ?? ''}\n`).join('');
  const bodyHash =
    lower['x-sdk-content-sha256'] ??
    createHash('sha256')
      .update(request.body ?? '')
      .digest('hex');
  return [
    request.method.toUpperCase(),
    canonicalUri(request.url.pathname),
    canonicalQuery(request.url),
    headerLines,
    signedHeaders.join(';'),
    bodyHash,
  ].join('\n');
}

/**
 * The request's headers plus X-Sdk-Date and Authorization, as a new object (the request is left as it was).
 * Signs host, x-sdk-date and every header already set (content-type, x-project-id), as the SDKs do.
 */
export function signRequest(
  request: SignableRequest,
  ak: string,
  sk: string,
  now = new Date(),
): Record<string, string> {
  const date = sdkDate(now);
  const headers: Record<string, string> = { ...request.headers, 'X-Sdk-Date': date };
  const names = new Set(Object.keys(headers).map((h) => h.toLowerCase()));
  names.add('host');
  const signedHeaders = [...names].filter((n) => n !== 'authorization').sort();
  const canonical = canonicalRequest({ ...request, headers }, signedHeaders);
  const stringToSign = `${SIGNING_ALGORITHM}\n${date}\n${createHash('sha256').update(canonical).digest('hex')}`;
  const signature = createHmac('sha256', sk).update(stringToSign).digest('hex');
  headers.Authorization = `${SIGNING_ALGORITHM} Access=${ak}, SignedHeaders=${signedHeaders.join(';')}, Signature=${signature}`;
  return headers;
}
