// Owns the Docker token server that a token-auth test registry trusts: key and certificate
// generation, ES256 JWT signing, and the GET /token endpoint with HTTP Basic login.
import { selfSignedCertificate, type CertificateFiles } from './certificates.js';
import { createPrivateKey, randomUUID, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listenOnLoopback } from './ports.js';

export interface TokenServerOptions {
  dir?: string; // where the key and certificate go; a temp dir owned by the server if absent
  username: string;
  password: string;
  expiresIn?: number;
  validFor?: number;
}

export interface IssuedToken {
  scopes: string[];
  at: number; // Date.now() when issued
}

export interface TokenServer {
  url: string;
  realm: string;
  service: string;
  issuer: string;
  certPath: string; // the registry's rootcertbundle
  issued: IssuedToken[];
  setExpiresIn(seconds: number): void;
  setValidFor(seconds: number | undefined): void; // undefined: follow expiresIn
  mint(scopes: string[]): string; // a token as /token would sign it, without HTTP or login
  stop(): Promise<void>;
}

interface ResourceAccess {
  type: string;
  name: string;
  actions: string[];
}

const SERVICE = 'test-registry';
const ISSUER = 'swr-harbor-sync-test-issuer';
// Distribution accepts a token this long after its exp (and before its nbf).
const REGISTRY_LEEWAY_SECONDS = 60;

function makeKeyPair(dir: string): CertificateFiles {
  return selfSignedCertificate(dir, 'token', {
    subject: '/CN=swr-harbor-sync-test-token',
    purpose: 'the token signing certificate',
  });
}

function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

// A scope is type:name:actions, and a name may itself hold colons (host:port/repo).
export function parseScope(scope: string): ResourceAccess | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first < 0 || last <= first) return undefined;
  const actions = scope
    .slice(last + 1)
    .split(',')
    .filter((a) => a.length > 0);
  return { type: scope.slice(0, first), name: scope.slice(first + 1, last), actions };
}

function signJwt(key: KeyObject, certDer: Buffer, claims: object): string {
  const header = { typ: 'JWT', alg: 'ES256', x5c: [certDer.toString('base64')] };
  const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  // JWS wants the raw r||s pair, not node's default DER signature.
  const signature = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${base64url(signature)}`;
}

function credentialsMatch(req: IncomingMessage, username: string, password: string): boolean {
  const header = req.headers.authorization ?? '';
  const match = /^Basic\s+(\S+)$/i.exec(header);
  if (!match) return false;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon >= 0 && decoded.slice(0, colon) === username && decoded.slice(colon + 1) === password;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export async function startTokenServer(opts: TokenServerOptions): Promise<TokenServer> {
  const ownsDir = opts.dir === undefined;
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'swr-harbor-sync-token-')));
  const { keyPath, certPath } = makeKeyPair(dir);
  const key = createPrivateKey(await readFile(keyPath));
  const certDer = new X509Certificate(await readFile(certPath)).raw;

  let expiresIn = opts.expiresIn ?? 300;
  let validFor = opts.validFor;
  const issued: IssuedToken[] = [];

  const mint = (scopes: string[]): string => {
    const now = Math.ceil(Date.now() / 1000);
    const lifetime = validFor ?? expiresIn;
    const access = scopes.map(parseScope).filter((a): a is ResourceAccess => a !== undefined);
    // exp sits a leeway before the real end, so the registry refuses the token exactly after `lifetime`.
    const exp = now + lifetime - REGISTRY_LEEWAY_SECONDS;
    const notBefore = Math.min(now, exp) - REGISTRY_LEEWAY_SECONDS;
    return signJwt(key, certDer, {
      iss: ISSUER,
      sub: opts.username,
      aud: SERVICE,
      exp,
      nbf: notBefore,
      iat: notBefore,
      jti: randomUUID(),
      access,
    });
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://token.invalid');
    if (req.method !== 'GET' || url.pathname !== '/token') {
      sendJson(res, 404, { errors: [{ code: 'NOT_FOUND', message: 'only GET /token is served here' }] });
      return;
    }
    if (!credentialsMatch(req, opts.username, opts.password)) {
      sendJson(
        res,
        401,
        { errors: [{ code: 'UNAUTHORIZED', message: 'valid basic credentials are required' }] },
        { 'www-authenticate': 'Basic realm="swr-harbor-sync-test-token"' },
      );
      return;
    }
    // Clients may repeat scope= or pack several scopes into one, space separated.
    const scopes = url.searchParams
      .getAll('scope')
      .flatMap((s) => s.split(' '))
      .filter((s) => s.length > 0);
    const token = mint(scopes);
    issued.push({ scopes, at: Date.now() });
    sendJson(res, 200, { token, access_token: token, expires_in: expiresIn, issued_at: new Date().toISOString() });
  });
  const port = await listenOnLoopback(server);
  // Like the registry it serves, it must not keep a finished test process alive.
  server.unref();
  const url = `http://127.0.0.1:${port}`;

  let stopped = false;
  return {
    url,
    realm: `${url}/token`,
    service: SERVICE,
    issuer: ISSUER,
    certPath,
    issued,
    setExpiresIn: (seconds) => {
      expiresIn = seconds;
    },
    setValidFor: (seconds) => {
      validFor = seconds;
    },
    mint,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (ownsDir) await rm(dir, { recursive: true, force: true });
    },
  };
}
