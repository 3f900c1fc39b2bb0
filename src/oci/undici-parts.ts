// Owns which parts of undici the process loads. Its index requires everything undici offers (fetch, WebSocket,
// caches, mocks, interceptors): 55 ms and 20 MB of every start on the 2-core VM, most of a small copy's start-up.
// We use its Agent, Client, Pool, ProxyAgent and request(), so those (and the API methods every dispatcher gets)
// are loaded from their own files: 15 ms.
// undici's package.json has no "exports" map, so these paths resolve for any importer; package.json pins the
// version exactly, and tests/unit/undici-parts.test.ts checks each part is the very class or behaviour the index
// exports, so an upgrade that moves a file fails there, not in a copy.
import { createRequire } from 'node:module';
import type * as Undici from 'undici';

const load = createRequire(import.meta.url);

interface Api {
  request(this: Undici.Dispatcher, options: Undici.Dispatcher.RequestOptions): Promise<Undici.Dispatcher.ResponseData>;
}
// What the index does besides loading everything: give every dispatcher its API methods. ProxyAgent opens its
// tunnels with the pool's connect(), so this is needed, not only our own request().
const api = load('undici/lib/api/index.js') as Api;
const dispatcher = load('undici/lib/dispatcher/dispatcher.js') as { prototype: object };
Object.assign(dispatcher.prototype, api);

export const Agent = load('undici/lib/dispatcher/agent.js') as typeof Undici.Agent;
export const Client = load('undici/lib/dispatcher/client.js') as typeof Undici.Client;
export const Pool = load('undici/lib/dispatcher/pool.js') as typeof Undici.Pool;
export const ProxyAgent = load('undici/lib/dispatcher/proxy-agent.js') as typeof Undici.ProxyAgent;

type RequestOptions = Omit<Undici.Dispatcher.RequestOptions, 'origin' | 'path' | 'method'> & {
  method?: Undici.Dispatcher.HttpMethod;
  /** Always given: the process has no global dispatcher of ours. */
  dispatcher: Undici.Dispatcher;
};

/** undici's request(url, options), for callers that always name their dispatcher. */
export function request(url: string | URL, options: RequestOptions): Promise<Undici.Dispatcher.ResponseData> {
  const target = typeof url === 'string' ? new URL(url) : url;
  const { dispatcher, ...rest } = options;
  return api.request.call(dispatcher, {
    ...rest,
    origin: target.origin,
    path: target.search ? `${target.pathname}${target.search}` : target.pathname,
    method: options.method ?? (options.body ? 'PUT' : 'GET'),
  });
}
