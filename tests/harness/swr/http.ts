// Owns the small HTTP helpers the SWR stand-in shares: Docker-style error bodies, JSON replies,
// reading Basic and Bearer credentials, and SWR's login-key derivation.
import { createHmac } from 'node:crypto';
import type { ServerResponse } from 'node:http';

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  // HEAD answers carry the headers only, as any Go net/http server does.
  res.end(res.req.method === 'HEAD' ? undefined : text);
}

/** SWR's registry host answers in Docker Distribution's error shape (research notes §4.5). */
export function sendError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
  detail?: string,
): void {
  const error = detail === undefined ? { code, message } : { code, message, detail };
  sendJson(res, status, { errors: [error] }, headers);
}

export function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}

export { basicCredentials, bearerToken, type Credentials } from '../request-auth.js';

/** SWR's long-term login key: lowercase hex HMAC-SHA256, key = SK, message = AK (notes §4.2). */
export function swrLoginKey(ak: string, sk: string): string {
  return createHmac('sha256', sk).update(ak).digest('hex');
}
