// SWR's management listings (swr/listing.ts) against the SWR stand-in's signed management API over its real
// registry: paging by limit/offset until a short page, `$` for `/` in repository paths, `Tag` with digests,
// and the fall back to the registry API (undefined answers, one warning) when the API refuses or is away.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { SwrListing } from '../../src/swr/listing.js';
import { SwrManagementClient } from '../../src/swr/management.js';
import { pushImage } from '../harness/images.js';
import { startSwr, type SwrStandIn } from '../harness/swr/index.js';

const AK = 'SWRLISTUNITACCESSKEY';
const SK = 'swr-list-unit-secret-0123456789abcd';

let swr: SwrStandIn;
const digests = new Map<string, string>();

beforeAll(async () => {
  swr = await startSwr({ ak: AK, sk: SK, namespaces: ['five', 'four'], requestsPerSecond: 0 });
  for (const [ns, count] of [
    ['five', 5],
    ['four', 4],
  ] as const) {
    for (let i = 0; i < count; i++) {
      const image = await pushImage(swr.registry, `${ns}/r${i}`, 'v1', {
        format: 'docker',
        layers: [{ seed: `listing-unit-${ns}-${i}`, size: 1_000 }],
      });
      digests.set(`${ns}/r${i}`, image.digest);
    }
  }
  const deep = await pushImage(swr.registry, 'five/team/app', 'latest', {
    format: 'docker',
    layers: [{ seed: 'listing-unit-deep', size: 1_000 }],
  });
  digests.set('five/team/app', deep.digest);
});

afterAll(async () => {
  await swr?.stop();
});

function listing(sk = SK, endpoint = swr.url, pageSize = 2, maxRows?: number) {
  const warnings: string[] = [];
  const management = new SwrManagementClient(endpoint, { kind: 'aksk', ak: AK, sk }, 'cn-north-4');
  return { listing: new SwrListing(management, (m) => warnings.push(m), pageSize, maxRows), warnings };
}

const managed = (from: number) => swr.requests.slice(from).filter((r) => r.path.startsWith('/v2/manage/'));

test('repositories are read page by page until a short page, an exact last page costing one empty page', async () => {
  const { listing: five, warnings } = listing();
  let before = swr.requests.length;
  const repos = await five.repositories('five');
  expect([...repos!.keys()].sort()).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 'team/app']);
  expect(repos!.get('r0')).toEqual(['v1']);
  // Six repositories in pages of two: three full pages and an empty one.
  expect(managed(before)).toHaveLength(4);
  before = swr.requests.length;
  expect((await five.repositories('four'))!.size).toBe(4);
  expect(managed(before).map((r) => r.path)).toEqual([
    '/v2/manage/repos?namespace=four&limit=2&offset=0',
    '/v2/manage/repos?namespace=four&limit=2&offset=2',
    '/v2/manage/repos?namespace=four&limit=2&offset=4',
  ]);
  expect(five.requests).toBe(7);
  expect(warnings).toEqual([]);
});

test('tags come with their digests; a / in the repository name is written $ in the path', async () => {
  const { listing: one } = listing();
  const before = swr.requests.length;
  expect(await one.tags('five', 'team/app')).toEqual(new Map([['latest', digests.get('five/team/app')]]));
  expect(managed(before)[0].path).toBe('/v2/manage/namespaces/five/repos/team%24app/tags?limit=2&offset=0');
  expect(await one.tags('four', 'r3')).toEqual(new Map([['v1', digests.get('four/r3')]]));
});

test('a repository that is not there has no tags, and the listing stays in use', async () => {
  const { listing: one, warnings } = listing();
  expect(await one.tags('four', 'never-pushed')).toEqual(new Map());
  expect((await one.repositories('four'))!.size).toBe(4);
  expect(warnings).toEqual([]);
});

test('a refusal (no SWR rights) falls back for good with one warning and no further calls', async () => {
  const { listing: refused, warnings } = listing();
  swr.refuseManagement = true;
  try {
    const before = swr.requests.length;
    expect(await refused.repositories('five')).toBeUndefined();
    expect(await refused.tags('five', 'r0')).toBeUndefined();
    expect(await refused.repositories('four')).toBeUndefined();
    expect(managed(before)).toHaveLength(1);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/403 SVCSTG\.SWR\.4039001.*registry API/);
  } finally {
    swr.refuseManagement = false;
  }
});

test('a listing that goes on past its cap stops there and falls back to the registry API, once', async () => {
  // Namespace five has six repositories: with pages of two and a cap of four, the third page is never asked.
  const { listing: capped, warnings } = listing(SK, swr.url, 2, 4);
  const before = swr.requests.length;
  expect(await capped.repositories('five')).toBeUndefined();
  expect(managed(before)).toHaveLength(2);
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toMatch(/4 entries and more pages to come; stopped there.*registry API/);
  expect(await capped.tags('five', 'r0')).toBeUndefined();
  expect(managed(before)).toHaveLength(2);
});

test('a bad signature and an unreachable API fall back the same way', async () => {
  const bad = listing('not-the-secret-key');
  expect(await bad.listing.repositories('five')).toBeUndefined();
  expect(bad.warnings).toHaveLength(1);
  expect(bad.warnings[0]).toMatch(/401/);
  const away = listing(SK, 'http://127.0.0.1:9');
  expect(await away.listing.tags('five', 'r0')).toBeUndefined();
  expect(await away.listing.repositories('five')).toBeUndefined();
  expect(away.warnings).toHaveLength(1);
  expect(away.warnings[0]).toMatch(/cannot reach the SWR API/);
});

test("SWR's 503 past the tenant's rate is waited out and asked again, not taken for a refusal", async () => {
  const { listing: busy, warnings } = listing();
  swr.requestsPerSecond = 2;
  const rejected = swr.rejected503;
  try {
    const answers = await Promise.all(Array.from({ length: 4 }, (_, i) => busy.tags('five', `r${i}`)));
    expect(answers.map((a) => a?.get('v1'))).toEqual([0, 1, 2, 3].map((i) => digests.get(`five/r${i}`)));
    expect(swr.rejected503).toBeGreaterThan(rejected);
    expect(warnings).toEqual([]);
  } finally {
    swr.requestsPerSecond = 0;
  }
});
