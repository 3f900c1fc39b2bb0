// The parts of undici the service loads one by one (src/oci/undici-parts.ts) are the very classes undici's index
// exports, and request() answers as the index's request() does: an undici upgrade that moves or changes one of
// these files fails here. Also: loading a copy command's modules does not load undici's index, and still gives
// every dispatcher the API methods the index would (ProxyAgent needs connect()).
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type * as Undici from 'undici';
import { Agent, Client, Pool, ProxyAgent, request } from '../../src/oci/undici-parts.js';

// Node's own require, as the module under test uses: jest's registry would hand out other instances.
const undici = createRequire(import.meta.url)('undici') as typeof Undici;

describe('undici loaded in parts', () => {
  test('each part is the class the index exports', () => {
    expect(Agent).toBe(undici.Agent);
    expect(Client).toBe(undici.Client);
    expect(Pool).toBe(undici.Pool);
    expect(ProxyAgent).toBe(undici.ProxyAgent);
  });

  let server: Server;
  let origin: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      let size = 0;
      req.on('data', (chunk: Buffer) => (size += chunk.length));
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ method: req.method, url: req.url, size }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test.each([
    ['a GET with a query', '/v2/a/b/tags/list?n=10&last=x', {}],
    ['a body without a method (PUT)', '/v2/upload', { body: Buffer.alloc(300) }],
    ['a HEAD', '/v2/a/manifests/1', { method: 'HEAD' }],
  ] as Array<[string, string, { body?: Buffer; method?: 'HEAD' }]>)(
    'request() answers as the index does: %s',
    async (_name, path, extra) => {
      const dispatcher = new Agent();
      try {
        const ours = await request(new URL(path, origin), { dispatcher, ...extra });
        const theirs = await undici.request(`${origin}${path}`, { dispatcher, ...extra });
        const [a, b] = [await ours.body.text(), await theirs.body.text()];
        expect(ours.statusCode).toBe(theirs.statusCode);
        expect(a).toBe(b);
        if (extra.method !== 'HEAD') expect(JSON.parse(a)).toMatchObject({ url: path });
      } finally {
        await dispatcher.close();
      }
    },
  );

  test("a copy command's modules do not load undici's index, yet every dispatcher has the index's API methods", () => {
    // ProxyAgent opens its tunnels with connect(), one of the methods the index gives every dispatcher.
    const probe = [
      "import { createRequire } from 'node:module';",
      "await import('./dist/src/cli/copy-commands.js');",
      'const require = createRequire(import.meta.url);',
      "const loaded = Object.keys(require.cache).filter((f) => f.includes('/undici/'));",
      "const proto = require('undici/lib/dispatcher/dispatcher.js').prototype;",
      "const methods = ['request', 'stream', 'pipeline', 'upgrade', 'connect'].filter((m) => typeof proto[m] === 'function');",
      "console.log(JSON.stringify({ index: loaded.includes(require.resolve('undici')), undici: loaded.length, methods }));",
    ].join('\n');
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    const seen = JSON.parse(run.stdout) as { index: boolean; undici: number; methods: string[] };
    expect(seen.undici).toBeGreaterThan(0);
    expect(seen.index).toBe(false);
    expect(seen.methods).toEqual(['request', 'stream', 'pipeline', 'upgrade', 'connect']);
  });
});
