// Owns the small HTTP helpers the SWR stand-in shares: Docker-style error bodies, JSON replies,
// reading Basic and Bearer credentials, and SWR's login-key derivation.
import { createHmac } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
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

export function sendText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : text);
}

export interface Credentials {
  username: string;
  password: string;
}

/** undefined = no Basic header; null = a Basic header that does not decode to user:password. */
export function basicCredentials(req: IncomingMessage): Credentials | null | undefined {
  const header = req.headers.authorization;
  if (!header || !/^basic\s/i.test(header)) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

export function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  return header && /^bearer\s/i.test(header) ? header.slice(7).trim() : undefined;
}

/** SWR's long-term login key: lowercase hex HMAC-SHA256, key = SK, message = AK (notes §4.2). */
export function swrLoginKey(ak: string, sk: string): string {
  return createHmac('sha256', sk).update(ak).digest('hex');
}
