// Authorization schemes are case-insensitive (RFC 7235 section 2.1): the ApiToken as `bearer`, `BEARER`, and the
// status page's Basic as `basic`, are accepted; the token itself stays case-sensitive and compared as a whole.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { startHarbor, type HarborStandIn } from '../harness/harbor/index.js';
import { startRegistry, type RunningRegistry } from '../harness/registry.js';
import { startServiceUnderTest, type ServiceUnderTest } from '../harness/service.js';

const API_TOKEN = 'front-door-token-5c2a9e71b4d0';
const basic = (password: string) => Buffer.from(`anyone:${password}`).toString('base64');

let harbor: HarborStandIn;
let dst: RunningRegistry;
let sut: ServiceUnderTest;

beforeAll(async () => {
  [harbor, dst] = await Promise.all([
    startHarbor({ projects: [{ name: 'proj', public: false }] }),
    startRegistry({ auth: 'none' }),
  ]);
  sut = await startServiceUnderTest(harbor.host, dst.host, { ApiToken: API_TOKEN });
}, 60_000);

afterAll(async () => {
  await sut?.stop();
  await Promise.all([harbor?.stop(), dst?.stop()]);
});

async function status(path: string, authorization: string): Promise<number> {
  const res = await fetch(`${sut.url}${path}`, { headers: { authorization } });
  await res.arrayBuffer();
  return res.status;
}

// One test per spelling, each with the refusals next to the acceptances: a looser parser must fail here too.
test.each([
  ['bearer', 'basic', ' '],
  ['BEARER', 'BASIC', ' '],
  ['bEaReR', 'bAsIc', '   '],
])('%s (and %s for the page) is accepted with the token, refused without it', async (bearer, basicScheme, blank) => {
  const withToken = `${bearer}${blank}${API_TOKEN}`;
  expect(await status('/api/v1/jobs', withToken)).toBe(200);
  expect(await status('/api/v1/status', withToken)).toBe(200);
  expect(await status('/', `${basicScheme}${blank}${basic(API_TOKEN)}`)).toBe(200);
  expect(await status('/api/v1/status', `${basicScheme}${blank}${basic(API_TOKEN)}`)).toBe(200);
  // The old call gets past the token check: what it says next is about its own headers, not 401.
  const old = await fetch(`${sut.url}/service/synchronization/namespace`, {
    method: 'POST',
    headers: { authorization: withToken },
  });
  expect(old.status).toBe(400);
  expect(((await old.json()) as { error: { message: string } }).error.message).toMatch(/Projectname/);

  for (const refused of [
    `${bearer}${blank}${API_TOKEN.toUpperCase()}`,
    `${bearer}${blank}${API_TOKEN}x`,
    `${bearer}${API_TOKEN}`,
    `Token${blank}${API_TOKEN}`,
    `${bearer}\t${API_TOKEN}`,
    bearer,
  ]) {
    expect({
      refused,
      api: await status('/api/v1/jobs', refused),
      status: await status('/api/v1/status', refused),
    }).toEqual({ refused, api: 401, status: 401 });
  }
  expect(await status('/', `${basicScheme}${blank}${basic('not-the-token')}`)).toBe(401);
});
