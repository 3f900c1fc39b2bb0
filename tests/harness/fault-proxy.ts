// Owns the streaming HTTP proxy placed in front of a test registry to inject faults (error
// statuses, connection resets, truncated bodies, delays) and to record every request.
import { Agent, createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOnLoopback } from './ports.js';

export type Fault =
  | { status: number; retryAfter?: number; body?: string }
  | { reset: true }
  | { truncateAfterBytes: number }
  /** Forward, but set (string) or remove (null) response headers: a registry that leaves something out. */
  | { responseHeaders: Record<string, string | null> }
  | { delayMs: number };

export interface FaultRule {
  method?: string;
  path?: RegExp; // tested against the path with its query
  times?: number; // default 1; Infinity for a lasting fault
  after?: number; // let the first N matching requests through untouched
  fault: Fault;
}

export interface ProxiedRequest {
  method: string;
  path: string;
  status: number; // 0 until answered, and for resets
  at: number; // Date.now() when the request arrived
  endedAt?: number; // Date.now() when its answer was done (or the connection closed)
  faulted?: 'status' | 'reset' | 'truncate' | 'delay' | 'headers';
}

export interface FaultProxy {
  url: string;
  host: string;
  requests: ProxiedRequest[];
  inject(rule: FaultRule): void;
  clear(): void;
  stop(): Promise<void>;
}

interface ActiveRule {
  rule: FaultRule;
  seen: number;
  fired: number;
}

// Connection-level headers belong to each hop, not to the message being relayed; `expect` too,
// since node has already answered 100-continue to the client.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'upgrade', 'te', 'trailer', 'expect']);

const ERROR_CODES: Record<number, string> = {
  400: 'UNSUPPORTED',
  401: 'UNAUTHORIZED',
  403: 'DENIED',
  404: 'NOT_FOUND',
  429: 'TOOMANYREQUESTS',
  503: 'UNAVAILABLE',
};

function faultName(fault: Fault): NonNullable<ProxiedRequest['faulted']> {
  if ('status' in fault) return 'status';
  if ('reset' in fault) return 'reset';
  if ('truncateAfterBytes' in fault) return 'truncate';
  if ('responseHeaders' in fault) return 'headers';
  return 'delay';
}

function relayHeaders(raw: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (!HOP_BY_HOP.has(raw[i].toLowerCase())) out.push(raw[i], raw[i + 1]);
  }
  return out;
}

function rewriteHeaders(raw: string[], rewrite: Record<string, string | null> | undefined): string[] {
  if (!rewrite) return raw;
  const names = new Set(Object.keys(rewrite).map((n) => n.toLowerCase()));
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) if (!names.has(raw[i].toLowerCase())) out.push(raw[i], raw[i + 1]);
  for (const [name, value] of Object.entries(rewrite)) if (value !== null) out.push(name, value);
  return out;
}

function answerDirectly(
  req: IncomingMessage,
  res: ServerResponse,
  fault: { status: number; retryAfter?: number; body?: string },
): void {
  req.resume(); // discard any upload so the connection stays usable
  const body =
    fault.body ??
    JSON.stringify({
      errors: [
        { code: ERROR_CODES[fault.status] ?? 'UNKNOWN', message: `injected fault ${fault.status}`, detail: null },
      ],
    });
  const headers: Record<string, string | number> = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'docker-distribution-api-version': 'registry/2.0',
  };
  if (fault.retryAfter !== undefined) headers['retry-after'] = fault.retryAfter;
  res.writeHead(fault.status, headers);
  res.end(body);
}

export async function startFaultProxy(targetUrl: string): Promise<FaultProxy> {
  const target = new URL(targetUrl);
  const upstreamAgent = new Agent({ keepAlive: true });
  const rules: ActiveRule[] = [];
  const requests: ProxiedRequest[] = [];

  const pickFault = (method: string, path: string): Fault | undefined => {
    for (const active of rules) {
      const { rule } = active;
      if (active.fired >= (rule.times ?? 1)) continue;
      if (rule.method !== undefined && rule.method.toUpperCase() !== method) continue;
      if (rule.path !== undefined && !rule.path.test(path)) continue;
      active.seen += 1;
      if (active.seen <= (rule.after ?? 0)) continue;
      active.fired += 1;
      return rule.fault;
    }
    return undefined;
  };

  const forward = (
    req: IncomingMessage,
    res: ServerResponse,
    entry: ProxiedRequest,
    truncateAfter?: number,
    rewrite?: Record<string, string | null>,
  ): void => {
    const upstream = httpRequest({
      host: target.hostname,
      port: target.port,
      method: req.method,
      path: req.url,
      // Host stays the client's, so the registry's Location headers point back at the proxy.
      headers: relayHeaders(req.rawHeaders),
      agent: upstreamAgent,
    });
    upstream.on('response', (upRes) => {
      entry.status = upRes.statusCode ?? 0;
      // pipe() does not pass errors on: a registry dying mid-body must cut the client off too.
      upRes.on('error', () => res.socket?.destroy());
      res.writeHead(entry.status, upRes.statusMessage, rewriteHeaders(relayHeaders(upRes.rawHeaders), rewrite));
      if (truncateAfter === undefined) {
        upRes.pipe(res);
        return;
      }
      let remaining = truncateAfter;
      if (remaining <= 0) {
        upRes.destroy();
        res.flushHeaders();
        res.socket?.end();
        return;
      }
      upRes.on('data', (chunk: Buffer) => {
        if (remaining <= 0) return;
        const part = chunk.length <= remaining ? chunk : chunk.subarray(0, remaining);
        remaining -= part.length;
        if (remaining > 0) {
          if (!res.write(part)) {
            upRes.pause();
            res.once('drain', () => upRes.resume());
          }
          return;
        }
        // Flush what is allowed, then drop the connection mid-body.
        res.write(part, () => {
          upRes.destroy();
          res.socket?.destroy();
        });
      });
      upRes.on('end', () => {
        if (remaining > 0) res.end();
      });
    });
    upstream.on('error', (err) => {
      if (res.headersSent) {
        res.socket?.destroy();
        return;
      }
      entry.status = 502;
      answerDirectly(req, res, {
        status: 502,
        body: JSON.stringify({ errors: [{ code: 'UNKNOWN', message: `proxy: ${err.message}` }] }),
      });
    });
    // A client that goes away must not leave a half-finished request open upstream.
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.on('error', () => upstream.destroy());
    req.pipe(upstream);
  };

  const server = createServer({ keepAlive: true, keepAliveTimeout: 60_000, requestTimeout: 0 }, (req, res) => {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const entry: ProxiedRequest = { method, path, status: 0, at: Date.now() };
    requests.push(entry);
    res.on('close', () => (entry.endedAt = Date.now()));
    const fault = pickFault(method, path);
    if (fault) entry.faulted = faultName(fault);

    if (fault && 'reset' in fault) {
      req.socket.destroy();
    } else if (fault && 'status' in fault) {
      entry.status = fault.status;
      answerDirectly(req, res, fault);
    } else if (fault && 'delayMs' in fault) {
      const timer = setTimeout(() => forward(req, res, entry), fault.delayMs);
      res.on('close', () => clearTimeout(timer));
    } else {
      forward(
        req,
        res,
        entry,
        fault && 'truncateAfterBytes' in fault ? fault.truncateAfterBytes : undefined,
        fault && 'responseHeaders' in fault ? fault.responseHeaders : undefined,
      );
    }
  });
  const host = `127.0.0.1:${await listenOnLoopback(server)}`;

  let stopped = false;
  return {
    url: `http://${host}`,
    host,
    requests,
    inject: (rule) => {
      rules.push({ rule, seen: 0, fired: 0 });
    },
    clear: () => {
      rules.length = 0;
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      upstreamAgent.destroy();
      await closed;
    },
  };
}
