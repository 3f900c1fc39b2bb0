// Owns a scriptable hostile peer (a registry, token service or redirect target that misbehaves on purpose):
// TLS and plain HTTP on ONE port (the first byte tells them apart: 0x16 opens a TLS handshake), answers
// scripted per path (status, headers, endless body, hang), and a record of every request it was sent.
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { makePeerCert } from './cert.js';

export interface RecordedRequest {
  scheme: 'http' | 'https';
  method: string;
  /** Path and query as sent. */
  url: string;
  headers: IncomingMessage['headers'];
}

export interface Answer {
  status?: number;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
  /** After `body`, send this chunk for ever (until the client goes away), every `everyMs` (0: as fast as possible). */
  endless?: { chunk: string; everyMs?: number };
  /** Send the status and headers, then nothing more, ever. */
  hangAfterHeaders?: boolean;
  /** Send nothing at all, ever. */
  hang?: boolean;
}

export type Script = (req: RecordedRequest, url: URL) => Answer | undefined;

export interface HostilePeer {
  address: string;
  port: number;
  /** `address:port`, as a registry host setting. */
  host: string;
  httpsUrl: string;
  httpUrl: string;
  /** PEM of the self-signed certificate, to trust as a private CA. */
  cert: string;
  requests: RecordedRequest[];
  /** Scripts are asked newest first; the first answer wins; unscripted paths get 404. */
  script(fn: Script): void;
  stop(): Promise<void>;
}

/** 127.x addresses besides 127.0.0.1, so that a test has several "hosts" (and can bind :443 or :80 without clashes). */
export function otherLoopback(): string {
  const byte = () => 2 + Math.floor(Math.random() * 250);
  return `127.${byte()}.${byte()}.${byte()}`;
}

function send(res: ServerResponse, answer: Answer): void {
  if (answer.hang) return;
  res.writeHead(answer.status ?? 200, answer.headers ?? {});
  if (answer.body !== undefined) res.write(answer.body);
  if (answer.hangAfterHeaders) {
    res.flushHeaders();
    return;
  }
  if (!answer.endless) {
    res.end();
    return;
  }
  const { chunk, everyMs = 0 } = answer.endless;
  const data = Buffer.from(chunk.repeat(everyMs === 0 ? Math.max(1, Math.floor(65536 / chunk.length)) : 1));
  let closed = false;
  res.on('close', () => (closed = true));
  const pump = (): void => {
    if (closed || res.destroyed) return;
    if (everyMs > 0) {
      res.write(data);
      setTimeout(pump, everyMs).unref();
      return;
    }
    while (res.write(data)) {
      if (closed || res.destroyed) return;
    }
    res.once('drain', pump);
  };
  pump();
}

/**
 * The socket as a plain stream with its first bytes put back: a TLS server reads a real socket's handle
 * directly, past anything unshifted into the JS stream, so it must be given a stream without a handle.
 */
function asStream(socket: Socket, first: Buffer): Duplex {
  const stream = new Duplex({
    read: () => void socket.resume(),
    write: (chunk: Buffer, _encoding, done) => void socket.write(chunk, done),
    final: (done) => void socket.end(done),
    destroy: (error, done) => {
      socket.destroy();
      done(error);
    },
  });
  stream.push(first);
  socket.on('data', (data: Buffer) => {
    if (!stream.push(data)) socket.pause();
  });
  socket.on('end', () => stream.push(null));
  socket.on('close', () => stream.destroy());
  return stream;
}

export async function startHostilePeer(options: { address?: string; port?: number } = {}): Promise<HostilePeer> {
  const address = options.address ?? '127.0.0.1';
  const { key, cert } = await makePeerCert(address);
  const requests: RecordedRequest[] = [];
  const scripts: Script[] = [];
  const sockets = new Set<Socket>();

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const scheme = (req.socket as TLSSocket).encrypted ? 'https' : 'http';
    const recorded: RecordedRequest = {
      scheme,
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      headers: req.headers,
    };
    requests.push(recorded);
    req.resume();
    const url = new URL(recorded.url, `${scheme}://${req.headers.host ?? address}`);
    const answer = scripts.map((s) => s(recorded, url)).find((a) => a !== undefined);
    send(
      res,
      answer ?? {
        status: 404,
        headers: { 'content-type': 'application/json' },
        body: '{"errors":[{"code":"NOT_FOUND","message":"not scripted"}]}',
      },
    );
  };
  const plain = createHttpServer(handle);
  const tls = createHttpsServer({ key, cert }, handle);
  for (const server of [plain, tls]) server.on('clientError', (_error, socket) => socket.destroy());

  const front = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.once('data', (first) => {
      if (first[0] === 0x16) {
        tls.emit('connection', asStream(socket, first));
        return;
      }
      socket.pause();
      socket.unshift(first);
      plain.emit('connection', socket);
      socket.resume();
    });
  });
  const port = await new Promise<number>((resolve, reject) => {
    front.once('error', reject);
    front.listen(options.port ?? 0, address, () => {
      const bound = front.address();
      if (bound === null || typeof bound === 'string') reject(new Error('the hostile peer has no TCP port'));
      else resolve(bound.port);
    });
  });
  front.unref();

  let stopped = false;
  return {
    address,
    port,
    host: `${address}:${port}`,
    httpsUrl: `https://${address}:${port}`,
    httpUrl: `http://${address}:${port}`,
    cert,
    requests,
    script: (fn) => {
      scripts.unshift(fn);
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => front.close(() => resolve()));
    },
  };
}
