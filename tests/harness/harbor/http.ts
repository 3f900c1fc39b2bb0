// Owns the small HTTP helpers the Harbor stand-in shares: Harbor's error body, JSON replies and
// reading Basic credentials.
import type { ServerResponse } from 'node:http';

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  // HEAD answers carry the headers only, as Go's net/http does.
  res.end(res.req.method === 'HEAD' ? undefined : text);
}

/** Harbor answers every error, API or /v2, with this one shape. */
export function sendError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, { errors: [{ code, message }] }, headers);
}

export { basicCredentials, bearerToken, type Credentials } from '../request-auth.js';
