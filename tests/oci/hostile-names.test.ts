// Names from users and from registries' own listings: nothing that breaks the distribution grammar becomes a path,
// listed names are checked like user input (the bad ones reported, not used), and paging ends on a Link loop.
import { afterAll, afterEach, beforeAll, expect, test } from '@jest/globals';
import { MAX_LISTED_NAMES, MAX_LISTED_PAGES, RegistryClient, RegistryError } from '../../src/oci/index.js';
import { startHostilePeer, type HostilePeer } from '../harness/hostile/peer.js';

let registry: HostilePeer;
let client: RegistryClient;
let invalid: string[];

beforeAll(async () => {
  registry = await startHostilePeer();
});

afterEach(async () => {
  await client?.close(true);
  registry.requests.length = 0;
});

afterAll(async () => {
  await registry?.stop();
});

function makeClient(): RegistryClient {
  invalid = [];
  client = new RegistryClient({
    host: registry.host,
    insecure: true,
    retry: { retries: 0 },
    onInvalidName: (kind, name) => invalid.push(`${kind}:${name}`),
  });
  return client;
}

/** What listing app's tags ends with: the error it throws, or undefined. */
function listingFailure(): Promise<unknown> {
  return makeClient()
    .listTags('app')
    .then(
      () => undefined,
      (e: unknown) => e,
    );
}

function json(path: string, body: unknown, headers: Record<string, string> = {}): void {
  registry.script((_req, url) =>
    url.pathname === path
      ? { status: 200, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) }
      : undefined,
  );
}

test.each([
  ['ns/a/../../evil/x', 'v1'],
  ['ns/./x', 'v1'],
  ['ns/%2e%2e/x', 'v1'],
  ['ns/x', '../../../evil/manifests/v1'],
  ['ns/x', 'v1?x=1#'],
])('%s with reference %s is refused before any request', async (repository, reference) => {
  const error = await makeClient()
    .getManifest(repository, reference)
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  expect(error).toBeInstanceOf(RegistryError);
  expect((error as RegistryError).code).toBe('NAME_INVALID');
  expect(registry.requests).toHaveLength(0);
});

test('tags/list names that break the grammar are dropped and reported, never used', async () => {
  json('/v2/app/tags/list', {
    name: 'app',
    tags: ['v1', '../../evil', 'ok-2', 'a\r\nforged', '.hidden', 7, 'x'.repeat(129)],
  });
  expect(await makeClient().listTags('app')).toEqual(['v1', 'ok-2']);
  expect(invalid).toEqual(['tag:../../evil', 'tag:a\r\nforged', 'tag:.hidden', 'tag:7', `tag:${'x'.repeat(129)}`]);
});

test('_catalog names that break the grammar are dropped and reported', async () => {
  json('/v2/_catalog', { repositories: ['team/app', 'team/../../evil', 'UPPER/case', 'ok/x'] });
  expect(await makeClient().listRepositories()).toEqual(['team/app', 'ok/x']);
  expect(invalid).toEqual(['repository:team/../../evil', 'repository:UPPER/case']);
});

test('a Link header pointing back at a page already read ends the paging', async () => {
  json('/v2/app/tags/list', { name: 'app', tags: ['v1'] }, { link: '</v2/app/tags/list?n=1000>; rel="next"' });
  expect(await makeClient().listTags('app')).toEqual(['v1']);
  expect(registry.requests).toHaveLength(1);
});

test('a Link loop over two pages ends after each was read once', async () => {
  registry.script((_req, url) => {
    if (url.pathname !== '/v2/app/tags/list') return undefined;
    const second = url.searchParams.get('last') === 'a';
    return {
      status: 200,
      headers: { link: `</v2/app/tags/list?n=1000${second ? '' : '&last=a'}>; rel="next"` },
      body: JSON.stringify({ tags: [second ? 'b' : 'a'] }),
    };
  });
  expect(await makeClient().listTags('app')).toEqual(['a', 'b']);
  expect(registry.requests).toHaveLength(2);
});

test('a next-page link to another origin ends the listing with an error, not with the pages read so far', async () => {
  json('/v2/app/tags/list', { tags: ['v1'] }, { link: '<http://other.invalid/v2/app/tags/list?last=v1>; rel="next"' });
  const error = await listingFailure();
  expect(error).toBeInstanceOf(RegistryError);
  expect((error as RegistryError).message).toContain(
    'the next-page link of its tags points at another origin (http://other.invalid); not followed',
  );
  expect(registry.requests).toHaveLength(1);
});

test(`links that move on for ever (empty pages, each a new URL) end after ${MAX_LISTED_PAGES} pages`, async () => {
  registry.script((_req, url) =>
    url.pathname === '/v2/app/tags/list'
      ? {
          status: 200,
          headers: {
            link: `</v2/app/tags/list?n=1000&last=${Number(url.searchParams.get('last') ?? 0) + 1}>; rel="next"`,
          },
          body: '{"tags":[]}',
        }
      : undefined,
  );
  const error = await listingFailure();
  expect((error as RegistryError).code).toBe('LISTING_TOO_LARGE');
  expect((error as RegistryError).message).toContain(`over ${MAX_LISTED_PAGES} pages of tags`);
  expect(registry.requests).toHaveLength(MAX_LISTED_PAGES);
}, 120_000);

test(`invalid names count toward the ${MAX_LISTED_NAMES} a listing may hold`, async () => {
  json('/v2/app/tags/list', { tags: Array.from({ length: MAX_LISTED_NAMES + 1 }, (_, i) => `../bad${i}`) });
  const error = await listingFailure();
  expect((error as RegistryError).code).toBe('LISTING_TOO_LARGE');
  expect(invalid.length).toBe(MAX_LISTED_NAMES);
});

test(`a listing of more than ${MAX_LISTED_NAMES} names fails with a clear error`, async () => {
  json('/v2/app/tags/list', { tags: Array.from({ length: MAX_LISTED_NAMES + 1 }, (_, i) => `t${i}`) });
  const error = await listingFailure();
  expect(error).toBeInstanceOf(RegistryError);
  expect((error as RegistryError).code).toBe('LISTING_TOO_LARGE');
  expect((error as RegistryError).message).toContain(`over ${MAX_LISTED_NAMES} tags`);
});
