// Token realms as a hostile registry names them: the registry's password goes to a token service only on the
// registry's own host or a host listed in TokenRealmHosts, and only over https unless the registry is plain http.
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { parseConfig } from '../../src/config/config.js';
import { RegistryClient, RegistryError } from '../../src/oci/index.js';
import { otherLoopback, startHostilePeer, type Answer, type HostilePeer } from '../harness/hostile/peer.js';
import { startCredentialTrap, type CredentialTrap } from '../harness/hostile/trap.js';
import { pushImage } from '../harness/images.js';
import { startRegistry, type RunningRegistry } from '../harness/registry.js';

const PASSWORD = 'realm-s3cret-pass';
let registry: HostilePeer;
let trap: CredentialTrap;
const clients: RegistryClient[] = [];

beforeAll(async () => {
  [registry, trap] = await Promise.all([startHostilePeer(), startCredentialTrap([PASSWORD], otherLoopback())]);
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close(true)));
  registry.requests.length = 0;
  trap.requests.length = 0;
});

afterAll(async () => {
  await Promise.all([registry?.stop(), trap?.stop()]);
});

/** The hostile registry: every request without the trap's token gets a Bearer challenge naming `realm`. */
function challengeWith(realm: string): void {
  registry.script((req): Answer =>
    req.headers.authorization === 'Bearer trap-token'
      ? { status: 200, headers: { 'content-type': 'application/json' }, body: '{}' }
      : {
          status: 401,
          headers: { 'www-authenticate': `Bearer realm="${realm}",service="hostile"` },
          body: '{"errors":[{"code":"UNAUTHORIZED"}]}',
        },
  );
}

function client(options: { credentials?: boolean; tokenRealmHosts?: string[] } = {}): RegistryClient {
  const made = new RegistryClient({
    host: registry.host,
    caCertificate: [registry.cert, trap.cert].join('\n'),
    credentials: options.credentials === false ? undefined : { username: 'robot', password: PASSWORD },
    tokenRealmHosts: options.tokenRealmHosts,
    retry: { retries: 0 },
  });
  clients.push(made);
  return made;
}

async function failure(promise: Promise<unknown>): Promise<RegistryError> {
  const outcome = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(outcome).toBeInstanceOf(RegistryError);
  return outcome as RegistryError;
}

test.each(['https', 'http'])(
  'a realm on another host (%s) gets no request and no password; the error names the realm and TokenRealmHosts',
  async (scheme) => {
    const realm = `${scheme}://${trap.host}/token`;
    challengeWith(realm);
    const error = await failure(client().ping());
    expect(error.message).toContain(`token realm ${realm} is not on ${registry.host}`);
    expect(error.message).toContain('add its host to TokenRealmHosts');
    expect(error.retryable).toBe(false);
    expect(error.message).not.toContain(PASSWORD);
    trap.assertNoCredentials();
    expect(trap.requests).toHaveLength(0);
  },
);

test("a realm on the registry's own host but another port is another service: no request, no password", async () => {
  const sameHost = await startCredentialTrap([PASSWORD], new URL(`https://${registry.host}`).hostname);
  try {
    challengeWith(`${sameHost.httpsUrl}/token`);
    const error = await failure(
      new RegistryClient({
        host: registry.host,
        caCertificate: [registry.cert, sameHost.cert].join('\n'),
        credentials: { username: 'robot', password: PASSWORD },
        retry: { retries: 0 },
      }).ping(),
    );
    expect(error.message).toContain(`token realm ${sameHost.httpsUrl}/token is not on ${registry.host}`);
    expect(error.message).toContain('add its host:port to TokenRealmHosts');
    sameHost.assertNoCredentials();
    expect(sameHost.requests).toHaveLength(0);
  } finally {
    await sameHost.stop();
  }
});

test('an https registry naming a plain-http realm on its own host and port does not get the password over http', async () => {
  // The peer serves http and https on one port, so the realm is the registry's host:port in all but the scheme.
  challengeWith(`${registry.httpUrl}/token`);
  registry.script((req) =>
    req.url.startsWith('/token') ? { status: 200, body: '{"token":"trap-token"}' } : undefined,
  );
  const error = await failure(client().ping());
  expect(error.message).toContain('over plain http: they are not sent');
  expect(registry.requests.filter((r) => r.scheme === 'http')).toHaveLength(0);
});

test('the same realm, once its host is listed in tokenRealmHosts, gets the credentials over https; unlisted, it still gets anonymous requests', async () => {
  challengeWith(`${trap.httpsUrl}/token`);
  await failure(client().ping());
  expect(trap.requests).toHaveLength(0);
  await client({ credentials: false }).ping();
  expect(trap.requests).toHaveLength(1);
  trap.assertNoCredentials();
  await client({ tokenRealmHosts: [trap.address] }).ping();
  expect(trap.requests).toHaveLength(2);
  expect(trap.requests[1].scheme).toBe('https');
  expect(trap.requests[1].headers.authorization).toMatch(/^Basic /);
});

test('TokenRealmHosts is validated and parsed as host or host:port entries', () => {
  const valid = {
    NamespaceMap: 'library:lib',
    HWAuthMethod: 'AKSK',
    HWAK: 'ak',
    HWSK: 'sk',
    RegionName: 'cn-north-4',
    HarborAddr: 'harbor.local',
  };
  expect(
    parseConfig({ ...valid, TokenRealmHosts: 'harbor.example.com, auth.example.com:8443' }).tokenRealmHosts,
  ).toEqual(['harbor.example.com', 'auth.example.com:8443']);
  expect(() => parseConfig({ ...valid, TokenRealmHosts: 'https://evil/token' })).toThrow(
    /TokenRealmHosts: "https:\/\/evil\/token" is not a host name/,
  );
});

describe('a real registry with token auth whose token service listens on another port', () => {
  let real: RunningRegistry;
  beforeAll(async () => {
    real = await startRegistry({ auth: 'token' });
    await pushImage(real, 'realm/app', 'v1', { format: 'docker', layers: [{ seed: 'realm', size: 2000 }] });
  });
  afterAll(async () => {
    await real?.stop();
  });

  const realClient = (tokenRealmHosts?: string[]) => {
    const made = new RegistryClient({
      host: real.host,
      insecure: true,
      credentials: { username: real.username!, password: real.password! },
      tokenRealmHosts,
      retry: { retries: 0 },
    });
    clients.push(made);
    return made;
  };

  test('unlisted, its plain-http realm gets nothing; listed as host:port in TokenRealmHosts, pulls work', async () => {
    const issued = real.tokenServer!.issued.length;
    const error = await failure(realClient().getManifest('realm/app', 'v1'));
    expect(error.message).toContain('TokenRealmHosts');
    expect(real.tokenServer!.issued.length).toBe(issued);
    const tokenHost = new URL(real.tokenServer!.realm).host;
    const manifest = await realClient([tokenHost]).getManifest('realm/app', 'v1');
    expect(manifest.digest).toMatch(/^sha256:/);
    expect(real.tokenServer!.issued.length).toBeGreaterThan(issued);
  });
});
