// Owns a streaming loopback reverse proxy in front of a registry that counts the request body
// bytes of blob uploads (POST/PATCH/PUT under /blobs/uploads/), to compare with unique bytes.
import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Transform } from 'node:stream';

export interface CountingProxy {
  host: string;
  url: string;
  uploadedBytes(): number;
  close(): Promise<void>;
}

const UPLOAD_METHODS = new Set(['POST', 'PATCH', 'PUT']);

export async function startCountingProxy(upstreamHost: string): Promise<CountingProxy> {
  const [hostname, port] = upstreamHost.split(':') as [string, string];
  const agent = new Agent({ keepAlive: true });
  let uploaded = 0;

  const forward = (req: IncomingMessage, res: ServerResponse): void => {
    const counts = UPLOAD_METHODS.has(req.method ?? '') && (req.url ?? '').includes('/blobs/uploads/');
    // Host is passed through unchanged, so the registry writes upload Locations that point back
    // at the proxy and every later PATCH/PUT is counted too.
    const upstream = request(
      { host: hostname, port: Number(port), method: req.method, path: req.url, headers: req.headers, agent },
      (reply) => {
        res.writeHead(reply.statusCode ?? 502, reply.rawHeaders);
        reply.pipe(res);
      },
    );
    upstream.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502).end(String(err));
      else res.destroy(err);
    });
    req.on('error', () => upstream.destroy());
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        if (counts) uploaded += chunk.length;
        done(null, chunk);
      },
    });
    req.pipe(counter).pipe(upstream);
  };

  const server = createServer(forward);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: own } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${own}`,
    url: `http://127.0.0.1:${own}`,
    uploadedBytes: () => uploaded,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
