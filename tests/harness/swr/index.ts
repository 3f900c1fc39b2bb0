// Owns startSwr(): a Huawei Cloud SWR registry-host stand-in (swr.<region>.myhuaweicloud.com) on
// one loopback port: SWR's token endpoint and /v2/ front with its documented and observed
// quirks, the 20 QPS limit, the management API's namespace and listing calls (manage.ts), and a request
// log, over a real backing docker-registry.
import { Agent, createServer } from 'node:http';
import { startRegistry, type RunningRegistry } from '../registry.js';
import type { RegistryAccess } from '../registry-http.js';
import { REALM_PATH, SERVICE, SwrAuth } from './auth.js';
import { handleV2 } from './front.js';
import { handleManage } from './manage.js';
import { sendJson, sendText, swrLoginKey } from './http.js';
import { RateLimit } from './rate-limit.js';
import { listenOnLoopback } from '../ports.js';

export { swrLoginKey } from './http.js';
export { SERVICE as SWR_SERVICE, REALM_PATH as SWR_REALM_PATH } from './auth.js';

export interface SwrOptions {
  /** Default 'cn-north-4'; the login user is `${region}@${ak}`. */
  region?: string;
  /** The tenant's access key pair; the login password is hex HMAC-SHA256(key = sk, message = ak). */
  ak: string;
  sk: string;
  /** Organizations that exist and belong to this tenant. */
  namespaces?: string[];
  /** Organizations that exist but belong to another tenant. */
  foreignNamespaces?: string[];
  /** Default 20 (SWR's per-tenant QPS); more within any 1 s window get 503; 0 = unlimited. */
  requestsPerSecond?: number;
  /** Default true; false = ignore ?mount= and start a plain upload (202). */
  mounts?: boolean;
  /** Other accepted logins, e.g. a temporary login from the secret API. */
  extraLogins?: Array<{ username: string; password: string }>;
  /** expires_in of issued tokens, default 900 s as observed; tokens really stop working then. */
  tokenExpiresIn?: number;
}

export interface SwrRequest {
  method: string;
  path: string;
  status: number;
  /** The caller's User-Agent header, as SWR's access log shows it. */
  userAgent?: string;
  /** When the request arrived (ms since the epoch), as the rate limit counts it. */
  at: number;
}

export interface SwrStandIn {
  /** http://127.0.0.1:PORT, acting as https://swr.<region>.myhuaweicloud.com */
  url: string;
  host: string;
  region: string;
  /** The long-term login: `${region}@${ak}` and the hex login key. */
  username: string;
  password: string;
  /** The same login in the fixtures' shape, for pushImage/pushIndex through the stand-in. */
  access: RegistryAccess;
  /** The real backing registry (open, no auth): seed or inspect behind SWR's back. */
  registry: RunningRegistry;
  /** Mutable: tests may add organizations as if created through the management API. */
  namespaces: Set<string>;
  foreignNamespaces: Set<string>;
  /** Mutable: change the limit mid-test (e.g. 0 while seeding with fixtures that do not retry). */
  requestsPerSecond: number;
  /** Every request, in arrival order; `path` includes the query. */
  requests: SwrRequest[];
  /** How many requests got the rate-limit 503. */
  rejected503: number;
  /** Mutable: the management API (/v2/manage/...) answers 403, as for an account without SWR rights. */
  refuseManagement: boolean;
  addLogin(username: string, password: string): void;
  stop(): Promise<void>;
}

export async function startSwr(options: SwrOptions): Promise<SwrStandIn> {
  const region = options.region ?? 'cn-north-4';
  const username = `${region}@${options.ak}`;
  const password = swrLoginKey(options.ak, options.sk);
  const auth = new SwrAuth(options.tokenExpiresIn ?? 900);
  auth.addLogin(username, password);
  for (const login of options.extraLogins ?? []) auth.addLogin(login.username, login.password);

  const registry = await startRegistry({ auth: 'none' });
  const agent = new Agent({ keepAlive: true });
  const namespaces = new Set(options.namespaces ?? []);
  const foreignNamespaces = new Set(options.foreignNamespaces ?? []);
  let externalUrl = '';
  // `standIn` is declared below, once the port is known; the limiter and the 503 counter read and write
  // through it, and no request reaches them before then.
  const limiter = new RateLimit(() => standIn.requestsPerSecond);
  const requests: SwrRequest[] = [];

  const server = createServer({ keepAlive: true, requestTimeout: 0 }, (req, res) => {
    const entry: SwrRequest = {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      status: 0,
      userAgent: req.headers['user-agent'],
      at: Date.now(),
    };
    requests.push(entry);
    // The status that reached the wire, whatever path answered.
    res.on('finish', () => {
      entry.status = res.statusCode;
    });
    const path = (req.url ?? '/').split('?')[0];
    const isV2 = path === '/v2' || path.startsWith('/v2/');
    const isToken = path === REALM_PATH || path === REALM_PATH.slice(0, -1);
    if (!isV2 && !isToken) {
      req.resume();
      sendText(res, 404, '404 page not found\n');
      return;
    }
    if (!limiter.admit()) {
      req.resume();
      standIn.rejected503 += 1;
      // SWR documents only "503" for exceeding 20 QPS (OTC image-push FAQ), no body: the
      // stand-in answers a plain-text 503 without Retry-After, as a gateway in front of the
      // registry would, so clients cannot lean on a JSON error code here.
      sendText(res, 503, 'Service Unavailable\n');
      return;
    }
    if (path.startsWith('/v2/manage/')) {
      handleManage(req, res, {
        ak: options.ak,
        sk: options.sk,
        namespaces,
        backingUrl: registry.url,
        externalUrl,
        refuse: standIn.refuseManagement,
        storageDir: registry.storageDir,
      }).catch((error: unknown) =>
        sendJson(res, 500, { errorCode: 'SVCSTG.SWR.5000000', errorMessage: String(error) }),
      );
      return;
    }
    if (isToken) {
      req.resume();
      if (req.method !== 'GET') {
        sendText(res, 405, 'Method Not Allowed\n');
        return;
      }
      auth.handleToken(req, res, new URL(req.url ?? '/', externalUrl));
      return;
    }
    handleV2(req, res, {
      auth,
      namespaces,
      foreignNamespaces,
      mounts: options.mounts ?? true,
      backingUrl: new URL(registry.url),
      externalUrl,
      agent,
    });
  });

  let port: number;
  try {
    port = await listenOnLoopback(server);
  } catch (err) {
    await registry.stop();
    throw err;
  }
  const host = `127.0.0.1:${port}`;
  externalUrl = `http://${host}`;
  // A forgotten stop() must not keep the test process alive; the registry has its own watchdog.
  server.unref();

  let stopped = false;
  const standIn: SwrStandIn = {
    url: externalUrl,
    host,
    region,
    username,
    password,
    access: {
      url: externalUrl,
      auth: 'token',
      username,
      password,
      tokenServer: { realm: `${externalUrl}${REALM_PATH}`, service: SERVICE },
    },
    registry,
    namespaces,
    foreignNamespaces,
    requestsPerSecond: options.requestsPerSecond ?? 20,
    requests,
    rejected503: 0,
    refuseManagement: false,
    addLogin: (user, pass) => auth.addLogin(user, pass),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      agent.destroy();
      await closed;
      await registry.stop();
    },
  };
  return standIn;
}
