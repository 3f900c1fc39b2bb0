// Owns hostile HTTP clients for front-door tests: connections that send half a request, or a pile of
// pipelined requests, and then never read a byte; a probe bound to a chosen loopback address; and the count
// of sockets a process holds (from /proc), which is what runs out when such clients are let linger.
import { connect, type Socket } from 'node:net';
import { request } from 'node:http';
import { readdir, readlink } from 'node:fs/promises';

export type StallKind = 'partial-request' | 'unread-answers';

/** Half a request head: the server waits for the rest, which never comes. */
const PARTIAL = 'GET /healthz HTTP/1.1\r\nHost: flood\r\nX-Never-Finished: ';
/**
 * Enough pipelined requests that their answers fill the socket buffers of a client that reads none of them: the
 * status page (12 KB, no ApiToken in these tests) is large and cheap to make; 400 of it are 5 MB.
 */
const PIPELINED = 'GET / HTTP/1.1\r\nHost: flood\r\n\r\n'.repeat(400);

export interface StalledClients {
  /** Connections whose TCP handshake completed. */
  readonly connected: number;
  /** Connections that failed or were seen closed (a paused socket may not notice its peer's close). */
  readonly closed: number;
  /** Destroys every client socket. */
  stop(): void;
}

/**
 * Opens `count` connections to 127.0.0.1:`port` from `localAddress`, each sending its kind's bytes (alternating
 * when `kind` is 'mixed') and then never reading: the socket is paused from the start, so after a few KB the
 * kernel's receive window closes and the server's writes stall.
 */
export async function openStalledClients(
  port: number,
  count: number,
  localAddress: string,
  kind: StallKind | 'mixed' = 'mixed',
): Promise<StalledClients> {
  const sockets: Socket[] = [];
  let connected = 0;
  let closed = 0;
  const openOne = (i: number) =>
    new Promise<void>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port, localAddress });
      socket.pause();
      sockets.push(socket);
      const which = kind === 'mixed' ? (i % 2 === 0 ? 'partial-request' : 'unread-answers') : kind;
      socket.once('connect', () => {
        connected++;
        socket.write(which === 'partial-request' ? PARTIAL : PIPELINED);
        resolve();
      });
      socket.on('error', () => undefined);
      socket.once('close', () => {
        closed++;
        resolve();
      });
      // A server out of descriptors may leave the handshake hanging in its backlog: go on without this one.
      setTimeout(resolve, 3000).unref();
    });
  // In batches, so that the listen backlog of the server under test is not what refuses them.
  for (let i = 0; i < count; i += 50) {
    await Promise.all(Array.from({ length: Math.min(50, count - i) }, (_, j) => openOne(i + j)));
  }
  return {
    get connected() {
      return connected;
    },
    get closed() {
      return closed;
    },
    stop() {
      for (const s of sockets) s.destroy();
    },
  };
}

/** TCP sockets `pid` holds open (descriptors pointing at sockets), listening one included. */
export async function socketsHeld(pid: number): Promise<number> {
  const dir = `/proc/${pid}/fd`;
  let held = 0;
  for (const fd of await readdir(dir).catch(() => [] as string[])) {
    const target = await readlink(`${dir}/${fd}`).catch(() => '');
    if (target.startsWith('socket:')) held++;
  }
  return held;
}

/** GET `url` on a fresh connection from `localAddress`: its status, or 0 when no answer came within `timeoutMs`. */
export function probe(url: string, localAddress: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      req.destroy();
      resolve(0);
    }, timeoutMs);
    const req = request(url, { agent: false, localAddress }, (res) => {
      res.resume();
      res.on('end', () => {
        clearTimeout(timer);
        resolve(res.statusCode ?? 0);
      });
    });
    req.on('error', () => {
      clearTimeout(timer);
      resolve(0);
    });
    req.end();
  });
}
