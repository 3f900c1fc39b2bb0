// A Harbor that misbehaves on purpose (raw loopback servers playing its REST API): paging links to another
// origin or in a loop, endless and slow bodies, names that are paths, and error text that forges log lines.
// The REST client and the sources must end each with a clear error, in bounded memory, sending nothing away.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterEach, expect, test } from '@jest/globals';
import { HarborClient, HarborError } from '../../src/harbor/client.js';
import { harborPages } from '../../src/harbor/paging.js';
import { V1Source } from '../../src/harbor/v1-source.js';
import { V2Source } from '../../src/harbor/v2-source.js';
import { listenOnLoopback } from '../harness/ports.js';

const servers: Server[] = [];
const clients: HarborClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close(true)));
  await Promise.all(
    servers.splice(0).map((s) => {
      s.closeAllConnections();
      return new Promise((r) => s.close(r));
    }),
  );
});

async function serve(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ host: string; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url} ${req.headers.authorization ? 'with-credentials' : 'anonymous'}`);
    handler(req, res);
  });
  servers.push(server);
  const port = await listenOnLoopback(server);
  return { host: `127.0.0.1:${port}`, requests };
}

function client(host: string, extra: Partial<ConstructorParameters<typeof HarborClient>[0]> = {}): HarborClient {
  const c = new HarborClient({ address: host, protocol: 'http', username: 'admin', password: 'Harbor12345', ...extra });
  clients.push(c);
  return c;
}

const json = (res: ServerResponse, body: unknown, headers: Record<string, string> = {}) =>
  res.writeHead(200, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));

test('a next-page link to another origin is not followed: the trap gets no request, the error says why', async () => {
  const trap = await serve((_req, res) => json(res, [{ name: 'proj/stolen' }]));
  const harbor = await serve((_req, res) =>
    json(res, [{ name: 'proj/a' }], {
      link: `<http://${trap.host}/api/v2.0/projects/proj/repositories?page=2>; rel="next"`,
    }),
  );
  const error = await new V2Source(client(harbor.host), 'v2.10.0', () => undefined)
    .listRepositories('proj')
    .catch((e: Error) => e);
  expect(error).toBeInstanceOf(HarborError);
  expect((error as Error).message).toMatch(
    /next-page link .* points at another origin \(http:\/\/127\.0\.0\.1:\d+, not http:\/\/127\.0\.0\.1:\d+\); not followed/,
  );
  expect(trap.requests).toEqual([]);
});

test("a next-page link on Harbor's origin whose path folds into //another-host is not called either", async () => {
  // `/.//host/x` resolves on Harbor's origin, and its path, `//host/x`, would resolve to `host` on the next call.
  const trap = await serve((_req, res) => json(res, [{ name: 'proj/stolen' }]));
  const harbor = await serve((_req, res) =>
    json(res, [{ name: 'proj/a' }], {
      link: `</.//${trap.host}/api/v2.0/projects/proj/repositories?page=2>; rel="next"`,
    }),
  );
  const error = await new V2Source(client(harbor.host), 'v2.10.0', () => undefined)
    .listRepositories('proj')
    .catch((e: Error) => e);
  expect(error).toBeInstanceOf(HarborError);
  expect((error as Error).message).toMatch(/resolved to http:\/\/127\.0\.0\.1:\d+, not Harbor's .*; not called/);
  expect(trap.requests).toEqual([]);
  expect(harbor.requests).toHaveLength(1);
});

test('a list that goes on past 100,000 items in pages of new links ends with an error', async () => {
  const page = Array.from({ length: 10_000 }, (_, i) => ({ name: `proj/r${i}` }));
  const harbor = await serve((req, res) => {
    const n = Number(new URL(req.url!, 'http://x').searchParams.get('page') ?? '1');
    json(res, page, { link: `</api/v2.0/projects/proj/repositories?page=${n + 1}&page_size=10000>; rel="next"` });
  });
  const error = await harborPages(client(harbor.host), '/api/v2.0/projects/proj/repositories?page=1').catch(
    (e: Error) => e,
  );
  expect(error).toBeInstanceOf(HarborError);
  expect((error as Error).message).toMatch(/holds more than 100000 items; stopped there/);
  expect(harbor.requests).toHaveLength(11);
});

test('the same origin spelt otherwise (upper-case scheme) is still Harbor', async () => {
  let page = 0;
  const harbor = await serve((req, res) => {
    page++;
    if (page === 1)
      return json(res, [{ name: 'x' }], {
        link: `<HTTP://127.0.0.1:${req.socket.localPort}/api/v2.0/p?page=2>; rel="next"`,
      });
    return json(res, [{ name: 'y' }]);
  });
  expect(await harborPages<{ name: string }>(client(harbor.host), '/api/v2.0/p?page=1')).toEqual([
    { name: 'x' },
    { name: 'y' },
  ]);
});

test('a paging loop (page 2 links back to page 1) ends with an error after two requests', async () => {
  const harbor = await serve((req, res) => {
    const page = new URL(req.url!, 'http://h').searchParams.get('page');
    json(res, [{ name: `proj/r${page}` }], {
      link: `</api/v2.0/projects/proj/repositories?page=${page === '1' ? 2 : 1}&page_size=100>; rel="next"`,
    });
  });
  const error = await new V2Source(client(harbor.host), undefined, () => undefined)
    .listRepositories('proj')
    .catch((e: Error) => e);
  expect((error as Error).message).toMatch(
    /leads back to a page already read \(2 pages read\); stopped instead of looping/,
  );
  expect(harbor.requests).toHaveLength(2);
});

test('an endless body is cut at the cap: the call fails, memory stays bounded, the connection is dropped', async () => {
  let sent = 0;
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  let serverSawClose!: () => void;
  const closed = new Promise<void>((resolve) => (serverSawClose = resolve));
  const harbor = await serve((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('[');
    const pump = () => {
      while (res.writable && !res.destroyed) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
    };
    res.on('close', () => serverSawClose());
    pump();
  });
  const before = process.memoryUsage().rss;
  const error = await client(harbor.host, { maxBodyBytes: 8 * 1024 * 1024 })
    .call('GET', '/api/v2.0/projects', { ok: [200] })
    .catch((e: Error) => e);
  expect(error).toBeInstanceOf(HarborError);
  expect((error as HarborError).code).toBe('TOO_LARGE');
  expect((error as Error).message).toMatch(/larger than 8388608 bytes; it was not read further/);
  // Generous: the 8 MiB kept plus socket buffers; reading on would grow without end.
  expect(process.memoryUsage().rss - before).toBeLessThan(96 * 1024 * 1024);
  await closed; // the server saw the client hang up: its pump stops, and nothing may be sent after
  const afterClose = sent;
  await new Promise((r) => setImmediate(r));
  expect(sent).toBe(afterClose);
  expect(sent).toBeLessThan(64 * 1024 * 1024);
});

test('a body that trickles forever ends at the call deadline with a message saying so', async () => {
  const harbor = await serve((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    const timer = setInterval(() => res.write(' '), 50);
    res.on('close', () => clearInterval(timer));
  });
  const error = await client(harbor.host, { deadlineMs: 1000 })
    .call('GET', '/api/v2.0/systeminfo', { ok: [200] })
    .catch((e: Error) => e);
  expect((error as HarborError).code).toBe('TIMEOUT');
  expect((error as Error).message).toMatch(
    /did not answer http:\/\/127\.0\.0\.1:\d+\/api\/v2\.0\/systeminfo within 1 s/,
  );
});

test('a tag that is a path (v1 tags and v2.0 artifacts) and a repository that is one are refused and reported', async () => {
  const evil = '../../../evilns/pwned/manifests/owned';
  const digest = `sha256:${'a'.repeat(64)}`;
  const harbor = await serve((req, res) => {
    const path = new URL(req.url!, 'http://h').pathname;
    if (path === '/api/repositories/proj/app/tags')
      return json(res, [
        { name: evil, digest },
        { name: 'v1', digest },
      ]);
    if (path.endsWith('/artifacts'))
      return json(res, [
        // Labels of the wrong shape are left out: they are only ever compared with IncludeLabels patterns.
        { digest, tags: [{ name: evil }, { name: 'v2' }], labels: [{ name: 'prod' }, { name: 42 }, null, 'qa'] },
        { digest: '../x', tags: [{ name: 'v3' }], labels: 'prod' },
      ]);
    if (path === '/api/v2.0/projects/proj/repositories')
      return json(res, [{ name: 'proj/ok' }, { name: 'proj/../../etc' }, { name: 'proj/UPPER' }]);
    res.writeHead(404).end();
  });
  const warnings: string[] = [];
  const warn = (m: string) => warnings.push(m);
  expect(await new V1Source(client(harbor.host), warn).listArtifacts('proj', 'app')).toEqual([
    { digest, mediaType: '', tags: ['v1'], children: [] },
  ]);
  expect(await new V2Source(client(harbor.host), undefined, warn).listArtifacts('proj', 'app')).toEqual([
    { digest, mediaType: '', tags: ['v2'], children: [], labels: ['prod'] },
  ]);
  expect(await new V2Source(client(harbor.host), undefined, warn).listRepositories('proj')).toEqual(['ok']);
  expect(warnings.filter((w) => w.includes('evilns'))).toHaveLength(2);
  expect(warnings.join('\n')).toMatch(/refused digest "\.\.\/x"/);
  expect(warnings.join('\n')).toMatch(/refused repository name "proj\/\.\.\/\.\.\/etc"/);
});

test('an artifact 404 means "deleted" only while its repository answers; a 404 for both fails the call', async () => {
  let repositoryAnswers = true;
  const harbor = await serve((req, res) => {
    const path = new URL(req.url!, 'http://h').pathname;
    if (path.includes('/artifacts/'))
      return res
        .writeHead(404, { 'content-type': 'application/json' })
        .end('{"errors":[{"code":"NOT_FOUND","message":"artifact not found"}]}');
    if (repositoryAnswers) return json(res, { name: 'proj/app' });
    res.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found');
  });
  const source = new V2Source(client(harbor.host), undefined, () => undefined);
  const digest = `sha256:${'b'.repeat(64)}`;
  expect(await source.getArtifact('proj', 'app', digest)).toBeUndefined();
  repositoryAnswers = false;
  await expect(source.getArtifact('proj', 'app', digest)).rejects.toThrow(
    /Harbor answered 404 for http:\/\/127\.0\.0\.1:\d+\/api\/v2\.0\/projects\/proj\/repositories\/app: 404 page not found/,
  );
});

test("Harbor's error text in a message is capped and its control characters escaped", async () => {
  const forged = `boom\n2026-01-01 INFO copied everything\r\u001b[31m${'x'.repeat(5000)}`;
  const harbor = await serve((_req, res) =>
    res
      .writeHead(500, { 'content-type': 'application/json' })
      .end(JSON.stringify({ errors: [{ code: 'UNKNOWN', message: forged }] })),
  );
  const error = (await client(harbor.host)
    .call('GET', '/api/v2.0/projects/proj', { ok: [200] })
    .catch((e: Error) => e)) as Error;
  expect(error.message).toMatch(
    /^Harbor answered 500 for http:\/\/127\.0\.0\.1:\d+\/api\/v2\.0\/projects\/proj: boom\\n2026-01-01 INFO copied everything\\r\\u001b\[31mx+…$/,
  );
  expect(error.message).not.toMatch(/[\n\r\u001b]/);
  expect(error.message.length).toBeLessThan(450);
});
