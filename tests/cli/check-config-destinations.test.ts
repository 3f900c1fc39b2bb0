// check-config with several destinations: each destination's login, registry and namespaces checked on its own
// (in its own SWR's management API), named by the destination, and one that is down does not hide the others.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { parseConfig } from '../../src/config/config.js';
import { preflight } from '../../src/service/preflight.js';
import { startHarbor, type HarborStandIn } from '../harness/harbor/index.js';
import { freePort } from '../harness/ports.js';
import { startSwr, type SwrStandIn } from '../harness/swr/index.js';

const MAIN = { ak: 'CHECKDESTMAINKEY0001', sk: 'check-dest-main-secret-0123456789' };
const DR = { ak: 'CHECKDESTDRKEY000001', sk: 'check-dest-dr-secret-0123456789ab' };

let harbor: HarborStandIn;
let main: SwrStandIn;
let dr: SwrStandIn;
let dir: string;

beforeAll(async () => {
  [harbor, main, dr] = await Promise.all([
    startHarbor({ projects: [{ name: 'proj', public: false }] }),
    startSwr({ ...MAIN, namespaces: ['mirror'], requestsPerSecond: 0 }),
    startSwr({ ...DR, region: 'cn-south-1', namespaces: ['mirror-dr'], requestsPerSecond: 0 }),
  ]);
  dir = await mkdtemp(join(tmpdir(), 'swr-harbor-sync-check-dest-'));
});

afterAll(async () => {
  await Promise.all([harbor?.stop(), main?.stop(), dr?.stop()]);
  await rm(dir, { recursive: true, force: true });
});

function raw(drRegistry: string, drApi: string): Record<string, string> {
  return {
    HWAuthMethod: 'AKSK',
    HWAK: MAIN.ak,
    HWSK: MAIN.sk,
    RegionName: 'cn-north-4',
    HarborAddr: harbor.host,
    HarborProtocol: 'http',
    HarborUser: 'admin',
    HarborPassword: 'Harbor12345',
    SWRRegistry: main.host,
    SWRProtocol: 'http',
    SWRApiEndpoint: main.url,
    Destinations: 'dr',
    dr_HWAuthMethod: 'AKSK',
    dr_HWAK: DR.ak,
    dr_HWSK: DR.sk,
    dr_RegionName: 'cn-south-1',
    dr_SWRRegistry: drRegistry,
    dr_SWRProtocol: 'http',
    dr_SWRApiEndpoint: drApi,
    NamespaceMap: 'proj:mirror,dr/mirror-dr',
    LogDir: join(dir, 'logs'),
    DataDir: join(dir, 'data'),
  };
}

test("each destination is checked in its own SWR, with its own keys, and named in the check's title", async () => {
  const results = await preflight(parseConfig(raw(dr.host, dr.url)));
  const byWhat = Object.fromEntries(results.map((r) => [r.what, r]));
  expect(byWhat[`SWR registry ${main.host}`]).toMatchObject({ ok: true, detail: 'reachable, login accepted' });
  expect(byWhat[`SWR registry ${dr.host} (dr)`]).toMatchObject({ ok: true, detail: 'reachable, login accepted' });
  // Each namespace only where it is mapped: mirror in the default SWR, mirror-dr in dr's.
  expect(byWhat['SWR namespace mirror']).toMatchObject({ ok: true, detail: 'exists, pushable' });
  expect(byWhat['SWR namespace mirror-dr (dr)']).toMatchObject({ ok: true, detail: 'exists, pushable' });
  expect(results.filter((r) => r.what.startsWith('SWR namespace'))).toHaveLength(2);
});

test('a destination that is down fails its own checks; the default one still passes', async () => {
  const dead = `127.0.0.1:${await freePort()}`;
  const results = await preflight(parseConfig(raw(dead, `http://${dead}`)));
  const byWhat = Object.fromEntries(results.map((r) => [r.what, r]));
  expect(byWhat[`SWR registry ${main.host}`]).toMatchObject({ ok: true });
  expect(byWhat['SWR namespace mirror']).toMatchObject({ ok: true });
  expect(byWhat[`SWR registry ${dead} (dr)`]).toMatchObject({ ok: false });
  expect(byWhat[`SWR registry ${dead} (dr)`].detail).toContain(dead);
  expect(byWhat['SWR namespace mirror-dr (dr)']).toMatchObject({ ok: false });
  expect(JSON.stringify(results)).not.toContain(DR.sk);
});

test("a named destination's wrong scheme is answered with its own key", async () => {
  // dr's registry speaks plain HTTP; dr_SWRProtocol=https is the mistake, not SWRProtocol.
  const results = await preflight(parseConfig({ ...raw(dr.host, dr.url), dr_SWRProtocol: 'https' }));
  const registry = results.find((r) => r.what === `SWR registry ${dr.host} (dr)`)!;
  expect(registry.ok).toBe(false);
  expect(registry.detail).toContain('set dr_SWRProtocol=http');
});
