// Owns the small HTTP helpers the Harbor stand-in shares: Harbor's error body, JSON replies and
// reading Basic credentials.
import type { IncomingMessage, ServerResponse } from 'node:http';

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
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
export function sendError(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  sendJson(res, status, { errors: [{ code, message }] }, headers);
}

export interface Credentials {
  username: string;
  password: string;
}

/** undefined = no Basic header; null = a Basic header that does not decode. */
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
