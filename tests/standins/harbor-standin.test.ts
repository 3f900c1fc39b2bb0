// Owns the checks that the Harbor stand-in behaves like Harbor where the service under test
// relies on it: /v2 auth flows, project/repository/artifact API shapes, paging, double-encoded
// names, index handling, addTag, and webhook/notification payload shapes against the fixtures.
import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import {
  distributionEnvelope,
  multiArchPushEvents,
  startHarbor,
  type HarborStandIn,
  type RegistryEvent,
} from '../harness/harbor/index.js';
import { pushImage, pushIndex, OCI_CONFIG, OCI_INDEX, OCI_MANIFEST, type PushedImage } from '../harness/images.js';

const agent = new Agent({ connections: 16 });
let harbor: HarborStandIn;
let app: PushedImage;

type Headers = Record<string, string>;

function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}
const ADMIN = { authorization: basic('admin', 'Harbor12345') };

async function send(method: 'GET' | 'HEAD' | 'POST' | 'PUT', path: string, headers: Headers = {}, body?: Buffer) {
  const res = await request(path.startsWith('http') ? path : harbor.url + path, {
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

/** A fixture as the JSON it holds; a test that reads fields names their type. */
function fixture<T = unknown>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8')) as T;
}

/** A Distribution notification envelope as the fixtures record it (the fields these tests read). */
interface EnvelopeFixture {
  events: Array<{ action: RegistryEvent['action']; target: Omit<RegistryEvent, 'action'> }>;
}

/** Keys and value types, recursively: two payloads of one shape give equal shapes. */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shape);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shape(v)]));
  }
  return value === null ? 'null' : typeof value;
}

const LAYER = { size: 2048, seed: 'harbor-standin' };

beforeAll(async () => {
  harbor = await startHarbor({
    projects: [
      { name: 'proj', public: false },
      { name: 'pub', public: true },
      { name: 'many', public: false },
    ],
  });
  app = await pushImage(harbor.access, 'proj/app', 'v1', { format: 'oci', layers: [LAYER] });
}, 60_000);

afterAll(async () => {
  await harbor?.stop();
  await agent.close();
});

describe('registry front', () => {
  test('pushImage through the stand-in with Basic lands in the backing registry', async () => {
    const puts = harbor.requests.filter((r) => r.method === 'PUT' && r.path === '/v2/proj/app/manifests/v1');
    expect(puts).toEqual([{ method: 'PUT', path: '/v2/proj/app/manifests/v1', status: 201 }]);
    const direct = await send('HEAD', `${harbor.registry.url}/v2/proj/app/manifests/v1`, { accept: OCI_MANIFEST });
    expect(direct.status).toBe(200);
    expect(direct.header('docker-content-digest')).toBe(app.digest);
  });

  test('anonymous requests get Harbor bearer challenges', async () => {
    const base = await send('GET', '/v2/');
    expect(base.status).toBe(401);
    expect(base.header('www-authenticate')).toBe(
      `Bearer realm="${harbor.url}/service/token",service="harbor-registry"`,
    );
    const manifest = await send('GET', '/v2/proj/app/manifests/v1');
    expect(manifest.status).toBe(401);
    expect(manifest.header('www-authenticate')).toBe(
      `Bearer realm="${harbor.url}/service/token",service="harbor-registry",scope="repository:proj/app:pull"`,
    );
    expect(manifest.json().errors[0].code).toBe('UNAUTHORIZED');
  });

  test('anonymous pull of a public repository works through the token flow; a private one is refused', async () => {
    const pub = await pushImage(harbor.access, 'pub/tool', 'latest', { format: 'docker', layers: [LAYER] });
    const pull = async (repo: string) => {
      const first = await send('GET', `/v2/${repo}/manifests/latest`, { accept: pub.mediaType });
      expect(first.status).toBe(401);
      const params = Object.fromEntries(
        [...first.header('www-authenticate').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
      );
      const tokenUrl = new URL(params.realm);
      tokenUrl.searchParams.set('service', params.service);
      tokenUrl.searchParams.set('scope', params.scope);
      const token = await send('GET', tokenUrl.toString());
      expect(token.status).toBe(200);
      const body = token.json();
      expect(body).toEqual({
        token: expect.any(String),
        access_token: body.token,
        expires_in: 1800,
        issued_at: expect.any(String),
      });
      expect(Number.isNaN(Date.parse(body.issued_at))).toBe(false);
      return send('GET', `/v2/${repo}/manifests/latest`, {
        accept: pub.mediaType,
        authorization: `Bearer ${body.token}`,
      });
    };
    const ok = await pull('pub/tool');
    expect(ok.status).toBe(200);
    expect(ok.header('docker-content-digest')).toBe(pub.digest);

    await pushImage(harbor.access, 'proj/secret', 'latest', { format: 'docker', layers: [LAYER] });
    const refused = await pull('proj/secret');
    expect(refused.status).toBe(401);
    expect(refused.header('www-authenticate')).toContain('error="insufficient_scope"');
  });

  test('a token issued with credentials allows pushing; without them push is refused', async () => {
    const anonymous = await send('POST', '/v2/pub/tool/blobs/uploads/');
    expect(anonymous.status).toBe(401);
    expect(anonymous.header('www-authenticate')).toContain('scope="repository:pub/tool:pull,push"');
    const anonToken = (
      await send('GET', '/service/token?service=harbor-registry&scope=repository:pub/tool:pull,push')
    ).json().token;
    const stillRefused = await send('POST', '/v2/pub/tool/blobs/uploads/', { authorization: `Bearer ${anonToken}` });
    expect(stillRefused.status).toBe(401);
    const token = (
      await send('GET', '/service/token?service=harbor-registry&scope=repository:pub/tool:pull,push', ADMIN)
    ).json().token;
    const opened = await send('POST', '/v2/pub/tool/blobs/uploads/', { authorization: `Bearer ${token}` });
    expect(opened.status).toBe(202);
    // The backing registry built Location from our Host header, so the upload continues here.
    expect(opened.header('location')).toMatch(new RegExp(`^(${harbor.url})?/v2/pub/tool/blobs/uploads/`));
  });

  test('/service/token with wrong credentials is 401; unknown project is 404 with credentials', async () => {
    const bad = await send('GET', '/service/token?service=harbor-registry&scope=repository:proj/app:pull', {
      authorization: basic('admin', 'wrong'),
    });
    expect(bad.status).toBe(401);
    const wrongBasic = await send('GET', '/v2/proj/app/manifests/v1', { authorization: basic('admin', 'wrong') });
    expect(wrongBasic.status).toBe(401);
    const unknown = await send('POST', '/v2/nope/app/blobs/uploads/', ADMIN);
    expect(unknown.status).toBe(404);
    expect(unknown.json()).toEqual({ errors: [{ code: 'NOT_FOUND', message: 'project nope not found' }] });
  });
});

describe('projects API', () => {
  test('project JSON has metadata.public as a string, by name and by id', async () => {
    const res = await send('GET', '/api/v2.0/projects/pub');
    expect(res.status).toBe(200);
    const p = res.json();
    expect(p).toMatchObject({
      name: 'pub',
      metadata: { public: 'true' },
      owner_name: 'admin',
      project_id: expect.any(Number),
    });
    expect(typeof p.repo_count).toBe('number');
    expect(p.repo_count).toBeGreaterThanOrEqual(1);
    const byId = await send('GET', `/api/v2.0/projects/${p.project_id}`);
    expect(byId.json().name).toBe('pub');
    const asName = await send('GET', `/api/v2.0/projects/${p.project_id}`, { 'x-is-resource-name': 'true' });
    expect(asName.status).toBe(401); // no project is named like that id; anonymous callers get 401
    const priv = await send('GET', '/api/v2.0/projects/proj', ADMIN);
    expect(priv.json().metadata).toEqual({ public: 'false' });
  });

  test('a private project is 401 anonymously and 200 with credentials; unknown is 404', async () => {
    const anon = await send('GET', '/api/v2.0/projects/proj');
    expect(anon.status).toBe(401);
    expect(anon.json()).toEqual({ errors: [{ code: 'UNAUTHORIZED', message: 'unauthorized' }] });
    expect((await send('GET', '/api/v2.0/projects/proj/repositories')).status).toBe(401);
    expect((await send('GET', '/api/v2.0/projects/proj', ADMIN)).status).toBe(200);
    expect((await send('GET', '/api/v2.0/projects/proj', { authorization: basic('admin', 'nope') })).status).toBe(401);
    const unknown = await send('GET', '/api/v2.0/projects/ghost', ADMIN);
    expect(unknown.status).toBe(404);
    expect(unknown.json()).toEqual({ errors: [{ code: 'NOT_FOUND', message: 'project ghost not found' }] });
    expect((await send('HEAD', '/api/v2.0/projects?project_name=proj', ADMIN)).status).toBe(200);
    expect((await send('HEAD', '/api/v2.0/projects?project_name=ghost', ADMIN)).status).toBe(404);
  });

  test('addProject makes a new project visible', async () => {
    harbor.addProject('later', true);
    expect((await send('GET', '/api/v2.0/projects/later')).json().metadata.public).toBe('true');
  });
});

describe('repositories API', () => {
  test('105 repositories page as Harbor pages them', async () => {
    const seed = await pushImage(harbor.access, 'many/r000', 'v1', { format: 'docker', layers: [LAYER] });
    const manifest = Buffer.from(
      JSON.stringify(
        { schemaVersion: 2, mediaType: seed.mediaType, config: seed.config, layers: seed.layers },
        null,
        2,
      ),
    );
    const names = Array.from({ length: 104 }, (_, i) => `many/r${String(i + 1).padStart(3, '0')}`);
    // Cross-repository mounts: one upload of the blobs, then only small requests per repository.
    const copy = async (repo: string) => {
      for (const blob of [seed.config, ...seed.layers]) {
        const mounted = await send('POST', `/v2/${repo}/blobs/uploads/?mount=${blob.digest}&from=many/r000`, ADMIN);
        expect(mounted.status).toBe(201);
      }
      const put = await send('PUT', `/v2/${repo}/manifests/v1`, { ...ADMIN, 'content-type': seed.mediaType }, manifest);
      expect(put.status).toBe(201);
    };
    for (let i = 0; i < names.length; i += 8) await Promise.all(names.slice(i, i + 8).map(copy));

    const first = await send('GET', '/api/v2.0/projects/many/repositories?page=1&page_size=100', ADMIN);
    expect(first.status).toBe(200);
    expect(first.header('x-total-count')).toBe('105');
    expect(first.header('link')).toBe('</api/v2.0/projects/many/repositories?page=2&page_size=100>; rel="next"');
    const items = first.json();
    expect(items).toHaveLength(100);
    expect(items[0]).toEqual({
      artifact_count: 1,
      creation_time: expect.any(String),
      id: expect.any(Number),
      name: 'many/r000',
      project_id: expect.any(Number),
      pull_count: 0,
      update_time: expect.any(String),
    });
    const sorted = items.map((r: { name: string }) => r.name);
    expect(sorted).toEqual([...sorted].sort());

    const second = await send('GET', '/api/v2.0/projects/many/repositories?page=2&page_size=100', ADMIN);
    expect(second.json().map((r: { name: string }) => r.name)).toEqual([
      'many/r100',
      'many/r101',
      'many/r102',
      'many/r103',
      'many/r104',
    ]);
    expect(second.header('x-total-count')).toBe('105');
    expect(second.header('link')).toBe('</api/v2.0/projects/many/repositories?page=1&page_size=100>; rel="prev"');
    expect(second.header('link')).not.toContain('rel="next"');

    const middle = await send('GET', '/api/v2.0/projects/many/repositories?page=2', ADMIN);
    expect(middle.json()).toHaveLength(10); // Harbor's default page_size
    expect(middle.header('link')).toBe(
      '</api/v2.0/projects/many/repositories?page=1&page_size=10>; rel="prev" , </api/v2.0/projects/many/repositories?page=3&page_size=10>; rel="next"',
    );

    const tooBig = await send('GET', '/api/v2.0/projects/many/repositories?page_size=101', ADMIN);
    expect(tooBig.status).toBe(422);
    expect(tooBig.json().errors[0]).toEqual({
      code: 'UNPROCESSABLE_ENTITY',
      message: 'validation failure list:\npage_size in query should be less than or equal to 100',
    });

    const seen = harbor.requests.filter((r) => r.path.startsWith('/api/v2.0/projects/many/repositories'));
    expect(seen.map((r) => r.status)).toEqual([200, 200, 200, 422]);
  }, 120_000);
});

describe('artifacts API', () => {
  test('an image artifact has Harbor fields and types', async () => {
    const res = await send('GET', '/api/v2.0/projects/proj/repositories/app/artifacts?with_tag=true', ADMIN);
    expect(res.status).toBe(200);
    expect(res.header('x-total-count')).toBe('1');
    const [a] = res.json();
    expect(a).toMatchObject({
      type: 'IMAGE',
      media_type: OCI_CONFIG,
      manifest_media_type: OCI_MANIFEST,
      digest: app.digest,
      size: app.size + app.config.size + app.layers[0].size,
      references: null,
      project_id: expect.any(Number),
      repository_id: expect.any(Number),
      push_time: expect.any(String),
    });
    expect(a.tags).toEqual([
      {
        artifact_id: a.id,
        id: expect.any(Number),
        immutable: false,
        name: 'v1',
        pull_time: expect.any(String),
        push_time: expect.any(String),
        repository_id: a.repository_id,
      },
    ]);
    const untagged = await send('GET', '/api/v2.0/projects/proj/repositories/app/artifacts?with_tag=false', ADMIN);
    expect(untagged.json()[0].tags).toBeNull();
    const missing = await send('GET', '/api/v2.0/projects/proj/repositories/app/artifacts/nope', ADMIN);
    expect(missing.status).toBe(404);
    expect(missing.json().errors[0].code).toBe('NOT_FOUND');
    const noRepo = await send('GET', '/api/v2.0/projects/proj/repositories/ghost/artifacts', ADMIN);
    expect(noRepo.status).toBe(404);
  });

  test("labels, as Harbor's swagger Label, only with with_label=true; null when there are none", async () => {
    const path = `/api/v2.0/projects/proj/repositories/app/artifacts`;
    // Made and put on the artifact through Harbor's label API, admin only.
    const json = { ...ADMIN, 'content-type': 'application/json' };
    const label = Buffer.from(JSON.stringify({ name: 'prod', scope: 'g' }));
    expect((await send('POST', '/api/v2.0/labels', { 'content-type': 'application/json' }, label)).status).toBe(401);
    const created = await send('POST', '/api/v2.0/labels', json, label);
    expect(created.status).toBe(201);
    expect((await send('POST', '/api/v2.0/labels', json, label)).status).toBe(409);
    const id = Number(/\/api\/v2\.0\/labels\/(\d+)$/.exec(created.header('location'))![1]);
    const byId = Buffer.from(JSON.stringify({ id }));
    expect((await send('POST', `${path}/${app.digest}/labels`, json, byId)).status).toBe(200);
    expect((await send('POST', `${path}/${app.digest}/labels`, json, byId)).status).toBe(409);
    const unknown = Buffer.from(JSON.stringify({ id: 999 }));
    expect((await send('POST', `${path}/${app.digest}/labels`, json, unknown)).status).toBe(404);

    const [labelled] = (await send('GET', `${path}?with_label=true`, ADMIN)).json();
    expect(labelled.labels).toEqual([
      {
        color: '',
        creation_time: expect.any(String),
        description: '',
        id: expect.any(Number),
        name: 'prod',
        project_id: 0,
        scope: 'g',
        update_time: expect.any(String),
      },
    ]);
    const one = (await send('GET', `${path}/${app.digest}?with_label=true`, ADMIN)).json();
    expect(one.labels.map((l: { name: string }) => l.name)).toEqual(['prod']);
    // swagger's default for with_label is false: then Harbor leaves the field null.
    expect((await send('GET', path, ADMIN)).json()[0].labels).toBeNull();
    const svc = await pushImage(harbor.access, 'proj/unlabelled', '1.0', { format: 'oci', layers: [LAYER] });
    const [none] = (
      await send('GET', `/api/v2.0/projects/proj/repositories/unlabelled/artifacts?with_label=true`, ADMIN)
    ).json();
    expect(none).toMatchObject({ digest: svc.digest, labels: null });
  });

  test('a repository name with a slash must be encoded twice', async () => {
    const svc = await pushImage(harbor.access, 'proj/team/svc', '1.0', { format: 'oci', layers: [LAYER] });
    const twice = await send('GET', '/api/v2.0/projects/proj/repositories/team%252Fsvc/artifacts', ADMIN);
    expect(twice.status).toBe(200);
    expect(twice.json().map((a: { digest: string }) => a.digest)).toEqual([svc.digest]);
    const once = await send('GET', '/api/v2.0/projects/proj/repositories/team%2Fsvc/artifacts', ADMIN);
    expect(once.status).toBe(404);
    expect(once.json().errors[0].code).toBe('NOT_FOUND');
    const byTag = await send('GET', '/api/v2.0/projects/proj/repositories/team%252Fsvc/artifacts/1.0', ADMIN);
    expect(byTag.json().digest).toBe(svc.digest);
    const repo = await send('GET', '/api/v2.0/projects/proj/repositories/team%252Fsvc', ADMIN);
    expect(repo.json().name).toBe('proj/team/svc');
  });

  test('a multi-arch index is one artifact with references; children only by digest', async () => {
    const index = await pushIndex(harbor.access, 'proj/multi', 'v2', {
      format: 'oci',
      images: [
        { platform: { os: 'linux', architecture: 'amd64' }, layers: [LAYER] },
        { platform: { os: 'linux', architecture: 'arm64', variant: 'v8' }, layers: [LAYER] },
      ],
    });
    const list = await send(
      'GET',
      '/api/v2.0/projects/proj/repositories/multi/artifacts?with_tag=true&page_size=100',
      ADMIN,
    );
    expect(list.header('x-total-count')).toBe('1');
    const [a] = list.json();
    expect(a.digest).toBe(index.digest);
    expect(a.media_type).toBe(OCI_INDEX);
    expect(a.manifest_media_type).toBe(OCI_INDEX);
    expect(a.tags.map((t: { name: string }) => t.name)).toEqual(['v2']);
    expect(a.references).toEqual([
      {
        annotations: null,
        child_digest: index.children[0].digest,
        child_id: expect.any(Number),
        parent_id: a.id,
        platform: { architecture: 'amd64', os: 'linux' },
        urls: null,
      },
      {
        annotations: null,
        child_digest: index.children[1].digest,
        child_id: expect.any(Number),
        parent_id: a.id,
        platform: { architecture: 'arm64', os: 'linux', variant: 'v8' },
        urls: null,
      },
    ]);
    const child = await send(
      'GET',
      `/api/v2.0/projects/proj/repositories/multi/artifacts/${index.children[1].digest}`,
      ADMIN,
    );
    expect(child.status).toBe(200);
    expect(child.json()).toMatchObject({
      digest: index.children[1].digest,
      tags: null,
      id: a.references[1].child_id,
      media_type: OCI_CONFIG,
    });
    const base = await send('GET', '/api/v2.0/projects/proj/repositories/multi/artifacts?q=base%3D*', ADMIN);
    expect(base.header('x-total-count')).toBe('3');
  });

  test('an untagged image pushed by digest is listed with tags null', async () => {
    const loose = await pushImage(harbor.access, 'proj/loose', undefined, {
      format: 'oci',
      layers: [LAYER],
      labels: { v: 'x' },
    });
    const list = await send('GET', '/api/v2.0/projects/proj/repositories/loose/artifacts', ADMIN);
    expect(list.json()).toEqual([expect.objectContaining({ digest: loose.digest, tags: null })]);
  });

  test('addTag shows the new tag in the API', async () => {
    await harbor.addTag('proj/app', app.digest, 'stable');
    const a = (await send('GET', '/api/v2.0/projects/proj/repositories/app/artifacts/stable', ADMIN)).json();
    expect(a.digest).toBe(app.digest);
    expect(a.tags.map((t: { name: string }) => t.name)).toEqual(['stable', 'v1']);
    const tags = await send('GET', `/api/v2.0/projects/proj/repositories/app/artifacts/${app.digest}/tags`, ADMIN);
    expect(tags.json().map((t: { name: string }) => t.name)).toEqual(['stable', 'v1']);
    expect(tags.header('x-total-count')).toBe('2');
  });
});

describe('webhook payloads', () => {
  const event = { project: 'pub', repository: 'tool', digest: `sha256:${'a'.repeat(64)}`, tag: 'latest' };

  test('Default format matches the fixture shape', () => {
    const { body, contentType } = harbor.webhookPayload('default', event);
    expect(contentType).toBe('application/json');
    const payload = JSON.parse(body);
    expect(shape(payload)).toEqual(shape(fixture('harbor-push-default.json')));
    expect(payload.event_data.resources[0].resource_url).toBe(`${harbor.host}/pub/tool:latest`);
    expect(payload.event_data.repository.repo_type).toBe('public');
  });

  test('a push without tag carries the digest in tag and an @ reference', () => {
    const payload = JSON.parse(
      harbor.webhookPayload('default', { ...event, tag: undefined, repository: 'a/b', project: 'proj' }).body,
    );
    expect(shape(payload)).toEqual(shape(fixture('harbor-push-default-digest-tag.json')));
    expect(payload.event_data.resources[0]).toEqual({
      digest: event.digest,
      tag: event.digest,
      resource_url: `${harbor.host}/proj/a/b@${event.digest}`,
    });
    expect(payload.event_data.repository).toMatchObject({
      name: 'a/b',
      namespace: 'proj',
      repo_full_name: 'proj/a/b',
      repo_type: 'private',
    });
  });

  test('CloudEvents format matches the fixture shape', () => {
    const { body, contentType } = harbor.webhookPayload('cloudevents', event);
    expect(contentType).toBe('application/cloudevents+json');
    const payload = JSON.parse(body);
    expect(shape(payload)).toEqual(shape(fixture('harbor-push-cloudevents.json')));
    expect(payload.type).toBe('harbor.artifact.pushed');
    expect(payload.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(payload.source).toMatch(/^\/projects\/\d+\/webhook\/policies\/\d+$/);
  });

  test('multiArchPushEvents sends the children by digest, then the tagged index', () => {
    const events = multiArchPushEvents('proj', 'multi', { digest: 'sha256:i', tag: 'v2' }, ['sha256:c1', 'sha256:c2']);
    expect(events.map((e) => [e.digest, e.tag])).toEqual([
      ['sha256:c1', 'sha256:c1'],
      ['sha256:c2', 'sha256:c2'],
      ['sha256:i', 'v2'],
    ]);
  });

  test('Distribution envelopes match the fixture shapes in both versions', () => {
    const fx = fixture<EnvelopeFixture>('distribution-envelope-v1.json');
    const events = fx.events.map((e) => ({
      action: e.action,
      repository: e.target.repository,
      digest: e.target.digest,
      tag: e.target.tag,
      mediaType: e.target.mediaType,
      size: e.target.size,
    }));
    for (const version of ['v1', 'v2'] as const) {
      const env = distributionEnvelope(events, version);
      expect(env.contentType).toBe(`application/vnd.docker.distribution.events.${version}+json`);
      const parsed = JSON.parse(env.body);
      expect(shape(parsed)).toEqual(shape(fixture(`distribution-envelope-${version}.json`)));
      expect(Object.keys(parsed.events[0].target)).toEqual(
        Object.keys(fixture<EnvelopeFixture>(`distribution-envelope-${version}.json`).events[0].target),
      );
    }
    const blobWithTag = JSON.parse(distributionEnvelope([{ ...events[0], tag: 'x' }], 'v1').body);
    expect(blobWithTag.events[0].target.tag).toBeUndefined();
  });

  test('the other fixtures are well-formed Harbor events', () => {
    expect(fixture<{ type: string }>('harbor-pull-default.json').type).toBe('PULL_ARTIFACT');
    const del = fixture<{ type: string }>('harbor-delete-cloudevents.json');
    expect(del.type).toBe('harbor.artifact.deleted');
    expect(shape(del)).toEqual(shape(fixture('harbor-push-cloudevents.json')));
  });
});
