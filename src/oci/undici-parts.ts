// Owns which parts of undici the process loads. Its index requires everything undici offers (fetch, WebSocket,
// caches, mocks, interceptors): 55 ms and 20 MB of every start on the 2-core VM, most of a small copy's start-up.
// We use its Agent, Client, Pool, ProxyAgent and request(), so those (and the API methods every dispatcher gets)
// are loaded from their own files: 15 ms.
// undici's package.json has no "exports" map, so these paths resolve for any importer; package.json pins the
// version exactly, and tests/unit/undici-parts.test.ts checks each part is the very class or behaviour the index
// exports, so an upgrade that moves a file fails there, not in a copy.
import type * as Undici from 'undici';
// Default imports of CommonJS files: Node hands over their module.exports, and the CLI's bundler
// (scripts/bundle.mjs) can follow them, which it cannot do through createRequire. Types: undici-files.d.ts.
import api from 'undici/lib/api/index.js';
import dispatcher from 'undici/lib/dispatcher/dispatcher.js';
import AgentClass from 'undici/lib/dispatcher/agent.js';
import ClientClass from 'undici/lib/dispatcher/client.js';
import PoolClass from 'undici/lib/dispatcher/pool.js';
import ProxyAgentClass from 'undici/lib/dispatcher/proxy-agent.js';

// What the index does besides loading everything: give every dispatcher its API methods. ProxyAgent opens its
// tunnels with the pool's connect(), so this is needed, not only our own request().
Object.assign(dispatcher.prototype, api);

export const Agent = AgentClass;
export const Client = ClientClass;
export const Pool = PoolClass;
export const ProxyAgent = ProxyAgentClass;

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
