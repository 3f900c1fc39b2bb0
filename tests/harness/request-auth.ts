// Owns reading the credentials a request carries (Basic or Bearer), for the registry stand-ins.
import type { IncomingMessage } from 'node:http';

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
