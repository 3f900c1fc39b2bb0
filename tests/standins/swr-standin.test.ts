// Owns the checks that the SWR stand-in behaves as SWR is documented and observed to (research
// notes §4.2, §4.5, §4.6): the dockyard token flow with the AK/SK login key, Basic refused on /v2,
// organization checks, OCI refusal, _catalog and tags/list answers, the 20 QPS limit and mounts.
import { createHash, createHmac } from 'node:crypto';
import { Agent, request } from 'undici';
import {
  pushIndex,
  DOCKER_CONFIG,
  DOCKER_LAYER,
  DOCKER_LIST,
  DOCKER_MANIFEST,
  OCI_CONFIG,
  OCI_INDEX,
  OCI_MANIFEST,
} from '../harness/images.js';
import { startSwr, type SwrStandIn } from '../harness/swr/index.js';
import { until } from '../harness/until.js';

const AK = 'QTWAOYTTINDUT2QVKYUC';
const SK = 'MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc';
// Written out here rather than taken from the harness, so a wrong derivation there fails a test.
const LOGIN_KEY = createHmac('sha256', SK).update(AK).digest('hex');
const USER = `cn-north-4@${AK}`;

const agent = new Agent({ connections: 16 });
let swr: SwrStandIn;
let plain: SwrStandIn; // mounts: false, default rate limit

type Headers = Record<string, string>;

function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

async function send(
  target: SwrStandIn,
  method: 'GET' | 'HEAD' | 'POST' | 'PUT',
  path: string,
  headers: Headers = {},
  body?: Buffer,
) {
  const res = await request(path.startsWith('http') ? path : target.url + path, {
    method,
    headers,
    body,
    dispatcher: agent,
  });
  const text = await res.body.text();
  const h = (name: string): string => {
    const v = res.headers[name];
    return Array.isArray(v) ? v.join(', ') : (v ?? '');
  };
  return { status: res.statusCode, header: h, text, json: () => JSON.parse(text) };
}

async function token(
  target: SwrStandIn,
  scopes: string[],
  login = { username: `${target.region}@${AK}`, password: LOGIN_KEY },
): Promise<string> {
  const query = ['service=dockyard', ...scopes.map((s) => `scope=${encodeURIComponent(s)}`)].join('&');
  const res = await send(target, 'GET', `/swr/auth/v2/registry/auth/?${query}`, {
    authorization: basic(login.username, login.password),
  });
  if (res.status !== 200) throw new Error(`token: ${res.status} ${res.text}`);
  return res.json().token as string;
}

const bearer = (t: string): Headers => ({ authorization: `Bearer ${t}` });
const digestOf = (data: Buffer): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/** Monolithic blob upload through the stand-in: POST a session, PUT the bytes with ?digest=. */
async function uploadBlob(target: SwrStandIn, repo: string, t: string, data: Buffer): Promise<string> {
  const start = await send(target, 'POST', `/v2/${repo}/blobs/uploads/`, bearer(t));
  expect(start.status).toBe(202);
  const location = new URL(start.header('location'), target.url);
  // The Host header reached the backing registry unchanged, so its Location names the stand-in.
  expect(location.host).toBe(target.host);
  const digest = digestOf(data);
  location.searchParams.set('digest', digest);
  const put = await send(
    target,
    'PUT',
    location.toString(),
    { ...bearer(t), 'content-type': 'application/octet-stream' },
    data,
  );
  expect(put.status).toBe(201);
  return digest;
}

function dockerManifest(
  config: Buffer,
  layer: Buffer,
  mediaType = DOCKER_MANIFEST,
  configType = DOCKER_CONFIG,
): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType,
      config: { mediaType: configType, digest: digestOf(config), size: config.length },
      layers: [{ mediaType: DOCKER_LAYER, digest: digestOf(layer), size: layer.length }],
    }),
  );
}

const CONFIG = Buffer.from(
  JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }),
);
const LAYER = Buffer.from('not really a tarball, but the registry only checks the digest');

beforeAll(async () => {
  [swr, plain] = await Promise.all([
    // Unlimited while most tests run; the rate-limit test turns the limit on for itself.
    startSwr({
      ak: AK,
      sk: SK,
      namespaces: ['team'],
      foreignNamespaces: ['other'],
      requestsPerSecond: 0,
      tokenExpiresIn: 900,
    }),
    startSwr({ ak: AK, sk: SK, region: 'ap-southeast-1', namespaces: ['team'], mounts: false }),
  ]);
}, 60_000);

afterAll(async () => {
  await Promise.all([swr?.stop(), plain?.stop()]);
  await agent.close();
});

describe('login and tokens', () => {
  test('anonymous GET /v2/ gets SWR dockyard Bearer challenge', async () => {
    const res = await send(swr, 'GET', '/v2/');
    expect(res.status).toBe(401);
    expect(res.header('www-authenticate')).toBe(
      `Bearer realm="${swr.url}/swr/auth/v2/registry/auth/",service="dockyard"`,
    );
  });

  test('Basic with the right login sent directly on /v2 is refused with the same challenge', async () => {
    for (const path of ['/v2/', '/v2/team/app/tags/list']) {
      const res = await send(swr, 'GET', path, { authorization: basic(USER, LOGIN_KEY) });
      expect(res.status).toBe(401);
      expect(res.header('www-authenticate')).toMatch(
        /^Bearer realm="[^"]+\/swr\/auth\/v2\/registry\/auth\/",service="dockyard"/,
      );
    }
  });

  test('the AK/SK login key gets a token, with and without the trailing slash, that opens /v2/', async () => {
    expect(swr.username).toBe(USER);
    expect(swr.password).toBe(LOGIN_KEY);
    for (const path of ['/swr/auth/v2/registry/auth/', '/swr/auth/v2/registry/auth']) {
      const res = await send(swr, 'GET', `${path}?service=dockyard&scope=repository:team/app:pull,push`, {
        authorization: basic(USER, LOGIN_KEY),
      });
      expect(res.status).toBe(200);
      const body = res.json();
      expect(typeof body.token).toBe('string');
      expect(body.expires_in).toBe(900);
      expect(Number.isNaN(Date.parse(body.issued_at))).toBe(false);
      const base = await send(swr, 'GET', '/v2/', bearer(body.token));
      expect(base.status).toBe(200);
    }
  });

  test('a wrong login gets 401 Authenticate Error', async () => {
    const wrongKey = createHmac('sha256', 'not-the-sk').update(AK).digest('hex');
    for (const auth of [basic(USER, wrongKey), basic(`cn-north-1@${AK}`, LOGIN_KEY), basic(USER, SK)]) {
      const res = await send(
        swr,
        'GET',
        '/swr/auth/v2/registry/auth/?service=dockyard&scope=repository:team/app:pull',
        { authorization: auth },
      );
      expect(res.status).toBe(401);
      expect(res.json()).toEqual({ errors: [{ code: 'UNAUTHORIZED', message: 'Authenticate Error' }] });
    }
    const anonymous = await send(swr, 'GET', '/swr/auth/v2/registry/auth/?service=dockyard');
    expect(anonymous.status).toBe(401);
  });

  test('extra logins are accepted, added ones too', async () => {
    const res = await send(swr, 'GET', '/swr/auth/v2/registry/auth/?service=dockyard', {
      authorization: basic('cn-north-4@TMPAK', 'tmp-pass'),
    });
    expect(res.status).toBe(401);
    swr.addLogin('cn-north-4@TMPAK', 'tmp-pass');
    const t = await token(swr, ['repository:team/app:pull'], { username: 'cn-north-4@TMPAK', password: 'tmp-pass' });
    expect((await send(swr, 'GET', '/v2/', bearer(t))).status).toBe(200);
  });

  test('unknown tokens get invalid_token; a token without the needed action gets 401', async () => {
    const bogus = await send(swr, 'GET', '/v2/team/app/tags/list', bearer('not-a-token'));
    expect(bogus.status).toBe(401);
    expect(bogus.header('www-authenticate')).toContain('error="invalid_token"');
    const pullOnly = await token(swr, ['repository:team/app:pull']);
    const post = await send(swr, 'POST', '/v2/team/app/blobs/uploads/', bearer(pullOnly));
    expect(post.status).toBe(401);
    const otherRepo = await send(swr, 'GET', '/v2/team/else/tags/list', bearer(pullOnly));
    expect(otherRepo.status).toBe(401);
    const repeated = await token(swr, ['repository:team/app:pull', 'repository:team/else:pull,push']);
    expect((await send(swr, 'GET', '/v2/team/else/tags/list', bearer(repeated))).status).toBe(200);
  });

  test('tokens stop working after expires_in', async () => {
    const short = await startSwr({ ak: AK, sk: SK, namespaces: ['team'], tokenExpiresIn: 1 });
    try {
      const t = await token(short, ['repository:team/app:pull']);
      expect((await send(short, 'GET', '/v2/team/app/tags/list', bearer(t))).status).toBe(200);
      await until(
        'the token to expire',
        async () => ((await send(short, 'GET', '/v2/team/app/tags/list', bearer(t))).status === 401 ? true : undefined),
        5000,
        100,
      );
      const late = await send(short, 'GET', '/v2/team/app/tags/list', bearer(t));
      expect(late.status).toBe(401);
      expect(late.header('www-authenticate')).toContain('error="invalid_token"');
    } finally {
      await short.stop();
    }
  });
});

describe('registry operations', () => {
  test('a Docker v2s2 image pushed with a token lands (201) and reads back', async () => {
    const t = await token(swr, ['repository:team/app:pull,push']);
    await uploadBlob(swr, 'team/app', t, LAYER);
    await uploadBlob(swr, 'team/app', t, CONFIG);
    const manifest = dockerManifest(CONFIG, LAYER);
    const put = await send(
      swr,
      'PUT',
      '/v2/team/app/manifests/v1',
      { ...bearer(t), 'content-type': DOCKER_MANIFEST },
      manifest,
    );
    expect(put.status).toBe(201);
    expect(put.header('docker-content-digest')).toBe(digestOf(manifest));

    const back = await send(swr, 'GET', '/v2/team/app/manifests/v1', { ...bearer(t), accept: DOCKER_MANIFEST });
    expect(back.status).toBe(200);
    expect(Buffer.from(back.text)).toEqual(manifest);
    const blob = await send(swr, 'GET', `/v2/team/app/blobs/${digestOf(LAYER)}`, bearer(t));
    expect(blob.status).toBe(200);
    expect(blob.text).toBe(LAYER.toString());
    // And it is really in the backing registry, not in the stand-in.
    const direct = await send(swr, 'HEAD', `${swr.registry.url}/v2/team/app/manifests/v1`, { accept: DOCKER_MANIFEST });
    expect(direct.status).toBe(200);
    const tags = await send(swr, 'GET', '/v2/team/app/tags/list', bearer(t));
    expect(tags.json()).toEqual({ name: 'team/app', tags: ['v1'] });
  });

  test('a Docker manifest list passes (pushIndex through the fixtures login)', async () => {
    const index = await pushIndex(swr.access, 'team/multi', 'v1', {
      format: 'docker',
      images: [
        { platform: { os: 'linux', architecture: 'amd64' }, layers: [{ size: 1024, seed: 'swr-amd64' }] },
        { platform: { os: 'linux', architecture: 'arm64' }, layers: [{ size: 1024, seed: 'swr-arm64' }] },
      ],
    });
    expect(index.mediaType).toBe(DOCKER_LIST);
    const direct = await send(swr, 'HEAD', `${swr.registry.url}/v2/team/multi/manifests/v1`, { accept: DOCKER_LIST });
    expect(direct.header('docker-content-digest')).toBe(index.digest);
  });

  test('OCI manifests and indexes are refused with MANIFEST_INVALID, by content type or body', async () => {
    const t = await token(swr, ['repository:team/oci:pull,push']);
    await uploadBlob(swr, 'team/oci', t, LAYER);
    await uploadBlob(swr, 'team/oci', t, CONFIG);
    const expected = {
      errors: [{ code: 'MANIFEST_INVALID', message: "Invalid image, fail to parse 'manifest.json'", detail: '' }],
    };
    const oci = dockerManifest(CONFIG, LAYER, OCI_MANIFEST, OCI_CONFIG);
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] }));
    const attempts: Array<[string, Buffer]> = [
      [OCI_MANIFEST, oci],
      [`${OCI_INDEX}; charset=utf-8`, index],
      // A body that says OCI under a Docker content type is refused too.
      [DOCKER_MANIFEST, oci],
    ];
    for (const [contentType, body] of attempts) {
      const put = await send(
        swr,
        'PUT',
        '/v2/team/oci/manifests/v1',
        { ...bearer(t), 'content-type': contentType },
        body,
      );
      expect(put.status).toBe(400);
      expect(put.json()).toEqual(expected);
    }
    const direct = await send(swr, 'HEAD', `${swr.registry.url}/v2/team/oci/manifests/v1`, { accept: OCI_MANIFEST });
    expect(direct.status).toBe(404);
  });

  test('a missing organization gets 401 DENIED "Image organization does not exist"', async () => {
    const t = await token(swr, ['repository:nope/app:pull,push']);
    for (const [method, path] of [
      ['GET', '/v2/nope/app/tags/list'],
      ['POST', '/v2/nope/app/blobs/uploads/'],
    ] as const) {
      const res = await send(swr, method, path, bearer(t));
      expect(res.status).toBe(401);
      expect(res.json()).toEqual({ errors: [{ code: 'DENIED', message: 'Image organization does not exist' }] });
    }
  });

  test('an organization added later (management API) works at once', async () => {
    const t = await token(swr, ['repository:later/app:pull']);
    expect((await send(swr, 'GET', '/v2/later/app/tags/list', bearer(t))).status).toBe(401);
    swr.namespaces.add('later');
    expect((await send(swr, 'GET', '/v2/later/app/tags/list', bearer(t))).status).toBe(200);
  });

  test("another tenant's organization gets 401 DENIED", async () => {
    const t = await token(swr, ['repository:other/app:pull,push']);
    const res = await send(swr, 'POST', '/v2/other/app/blobs/uploads/', bearer(t));
    expect(res.status).toBe(401);
    expect(res.json()).toEqual({ errors: [{ code: 'DENIED', message: 'Authenticate Error' }] });
  });

  test('tags/list of a missing repository is 200 with tags null; _catalog is 404', async () => {
    const t = await token(swr, ['repository:team/never-pushed:pull']);
    const tags = await send(swr, 'GET', '/v2/team/never-pushed/tags/list', bearer(t));
    expect(tags.status).toBe(200);
    expect(tags.json()).toEqual({ name: 'team/never-pushed', tags: null });
    const catalog = await send(swr, 'GET', '/v2/_catalog', bearer(t));
    expect(catalog.status).toBe(404);
  });

  test('cross-repository mount works where allowed; mounts: false answers a plain 202 session', async () => {
    const source = await token(swr, ['repository:team/app:pull,push']);
    await uploadBlob(swr, 'team/app', source, Buffer.from('mount me'));
    const digest = digestOf(Buffer.from('mount me'));
    const t = await token(swr, ['repository:team/copy:pull,push', 'repository:team/app:pull']);
    const mounted = await send(swr, 'POST', `/v2/team/copy/blobs/uploads/?mount=${digest}&from=team/app`, bearer(t));
    expect(mounted.status).toBe(201);

    const p1 = await token(plain, ['repository:team/app:pull,push']);
    await uploadBlob(plain, 'team/app', p1, Buffer.from('mount me'));
    const p2 = await token(plain, ['repository:team/copy:pull,push', 'repository:team/app:pull']);
    const refused = await send(plain, 'POST', `/v2/team/copy/blobs/uploads/?mount=${digest}&from=team/app`, bearer(p2));
    expect(refused.status).toBe(202);
    expect(refused.header('location')).toContain('/v2/team/copy/blobs/uploads/');
    const mountPost = plain.requests.find((r) => r.path.includes('mount='));
    expect(mountPost?.status).toBe(202);
  });
});

describe('rate limit', () => {
  test('a burst of 40 over the default limit of 20 gets 503s, and a second later requests pass again', async () => {
    expect(plain.requestsPerSecond).toBe(20);
    const before = plain.rejected503;
    const started = Date.now();
    const statuses = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        i % 2 === 0
          ? send(plain, 'GET', '/v2/').then((r) => r.status)
          : send(plain, 'GET', '/swr/auth/v2/registry/auth/?service=dockyard', {
              authorization: basic(`ap-southeast-1@${AK}`, LOGIN_KEY),
            }).then((r) => r.status),
      ),
    );
    const elapsed = Date.now() - started;
    const limited = statuses.filter((s) => s === 503).length;
    expect(limited).toBeGreaterThan(0);
    expect(plain.rejected503 - before).toBe(limited);
    expect(statuses.every((s) => s === 503 || s === 401 || s === 200)).toBe(true);
    // Within one second no more than the limit may pass.
    if (elapsed < 900) expect(40 - limited).toBeLessThanOrEqual(20);

    // Refused probes are not counted, so waiting by probing does not fill the window again.
    await until(
      'the window to let requests through again',
      async () => ((await send(plain, 'GET', '/v2/')).status === 503 ? undefined : true),
      5000,
      100,
    );
    // The burst's admitted requests leave the window one by one (under load they arrived spread out): a second
    // after the first gap, all have, and the three requests below fit.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect((await send(plain, 'GET', '/v2/')).status).toBe(401);
    const t = await token(plain, ['repository:team/app:pull']);
    expect((await send(plain, 'GET', '/v2/', bearer(t))).status).toBe(200);
  });

  test('0 means unlimited', async () => {
    const statuses = await Promise.all(
      Array.from({ length: 60 }, () => send(swr, 'GET', '/v2/').then((r) => r.status)),
    );
    expect(statuses.filter((s) => s === 503)).toEqual([]);
    expect(swr.rejected503).toBe(0);
  });
});
