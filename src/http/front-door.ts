// The HTTP server's own defences against slow, stalled or hostile clients: short header, body and idle
// timeouts, a watchdog for clients that stop reading the answer, a cap on connections per client address,
// and sockets destroyed (not just ended) after an error reply. A client that stops reading never lets an
// ended socket close, so without these a few hundred of them hold every descriptor and /healthz is refused.
import { createServer, type RequestListener, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type winston from 'winston';

/** Fixed limits of the front door; only the per-address cap is a configuration key. */
export const FRONT_DOOR = {
  /** The whole request head must arrive within this. */
  headersTimeoutMs: 10_000,
  /** The whole request (head and body) must arrive within this. */
  requestTimeoutMs: 30_000,
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: 5_000,
  /** An answer the client has not taken a byte of for this long is abandoned and the socket destroyed. */
  writeStallMs: 15_000,
  /** How often Node checks the header/request timeouts and the stall watchdog looks at the sockets. */
  checkIntervalMs: 1_000,
  /** Time an error reply gets to leave before its socket is destroyed anyway. */
  errorReplyMs: 1_000,
} as const;

export interface FrontDoorOptions {
  /** Connections at once from one client address; 0 = no cap (behind a proxy that connects for everyone). */
  maxConnectionsPerClient: number;
}

/** An HTTP server for `app` with the front door's timeouts, cap and error handling in place (not yet listening). */
export function createFrontDoorServer(app: RequestListener, options: FrontDoorOptions, log: winston.Logger): Server {
  const server = createServer(
    {
      headersTimeout: FRONT_DOOR.headersTimeoutMs,
      requestTimeout: FRONT_DOOR.requestTimeoutMs,
      keepAliveTimeout: FRONT_DOOR.keepAliveTimeoutMs,
      connectionsCheckingInterval: FRONT_DOOR.checkIntervalMs,
    },
    app,
  );
  capPerClient(server, options.maxConnectionsPerClient, log);
  watchWriteStalls(server);
  server.on('clientError', replyAndDestroy);
  return server;
}

/** `::ffff:127.0.0.1` and `127.0.0.1` are the same client. */
function clientAddress(socket: Socket): string | undefined {
  const address = socket.remoteAddress;
  return address?.startsWith('::ffff:') ? address.slice(7) : address;
}

/**
 * Refuses a client's connections beyond `max` by destroying them at once: the cost of a refused connection is
 * one accept, and other addresses (the health probe) keep their descriptors. A global cap would refuse them too.
 */
function capPerClient(server: Server, max: number, log: winston.Logger): void {
  if (max <= 0) return;
  const open = new Map<string, number>();
  const warned = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = clientAddress(socket);
    if (address === undefined) return void socket.destroy();
    const count = open.get(address) ?? 0;
    if (count >= max) {
      socket.destroy();
      // One warning per address a minute: a flood must not become a flood of log lines.
      const now = Date.now();
      if ((warned.get(address) ?? 0) < now - 60_000) {
        warned.set(address, now);
        log.warn(
          `${address} has ${count} connections open, MaxConnectionsPerClient=${max}: refusing more (closed at once) for as long as it keeps them`,
        );
      }
      return;
    }
    open.set(address, count + 1);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left > 0) open.set(address, left);
      else open.delete(address);
    });
  });
}

/**
 * Destroys sockets whose pending answer has not shrunk for `writeStallMs`. Node's own socket timeout cannot do
 * this: the HTTP server resets it to the keep-alive timeout and then to none as requests come and go.
 */
function watchWriteStalls(server: Server): void {
  const watched = new Map<Socket, { pending: number; progressAt: number }>();
  server.on('connection', (socket: Socket) => {
    if (socket.destroyed) return;
    watched.set(socket, { pending: 0, progressAt: Date.now() });
    socket.once('close', () => watched.delete(socket));
  });
  const timer = setInterval(() => {
    const now = Date.now();
    for (const [socket, seen] of watched) {
      const pending = socket.writableLength;
      // Less queued than last time (or nothing): the client is reading. More queued: we wrote, it did not read.
      if (pending === 0 || pending < seen.pending) seen.progressAt = now;
      seen.pending = pending;
      if (pending > 0 && now - seen.progressAt >= FRONT_DOOR.writeStallMs) socket.destroy();
    }
  }, FRONT_DOOR.checkIntervalMs);
  timer.unref();
  server.once('close', () => clearInterval(timer));
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
};

/**
 * Requests Node's HTTP parser refuses (NUL in a header, oversized headers) and requests that took too long get a
 * JSON error like every other bad input, and then the socket is destroyed: `end()` alone waits for the client's
 * own close, which a client that stopped reading never sends.
 */
function replyAndDestroy(error: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable || error.code === 'ECONNRESET') return void socket.destroy();
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const message =
    status === 408
      ? `the request did not arrive within ${FRONT_DOOR.requestTimeoutMs / 1000} s (its headers within ${FRONT_DOOR.headersTimeoutMs / 1000} s)`
      : 'the request is not valid HTTP/1.1';
  const body = JSON.stringify({ error: { code: status === 408 ? 'REQUEST_TIMEOUT' : 'BAD_HTTP', message } });
  // Not at once: closing with unread input resets the connection, and the client could lose the reply.
  setTimeout(() => socket.destroy(), FRONT_DOOR.errorReplyMs).unref();
  socket.end(
    `HTTP/1.1 ${status} ${REASONS[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** Accept failures (out of descriptors) are logged, at most once a minute, instead of crashing the service. */
export function logAcceptErrors(server: Server, log: winston.Logger): void {
  let loggedAt = 0;
  server.on('error', (error: NodeJS.ErrnoException) => {
    const now = Date.now();
    if (now - loggedAt < 60_000) return;
    loggedAt = now;
    log.error(
      `accepting a connection failed: ${error.code ?? error.message}; if EMFILE, the service is out of file descriptors (raise its limit, lower MaxConnectionsPerClient)`,
    );
  });
}
