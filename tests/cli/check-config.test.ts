// check-config: one line per dependency, ok or the reason, and the exit code; in-process for the SWR
// management API (nock), and as the built command for what a user sees.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import nock from 'nock';
import { parseConfig } from '../../src/config/config.js';
import { preflight } from '../../src/service/preflight.js';
import { runCli } from '../harness/cli.js';
import { startHarbor, type HarborStandIn } from '../harness/harbor/index.js';
import { startRedis } from '../harness/redis.js';
import { startSwr, type SwrStandIn } from '../harness/swr/index.js';

const AK = 'CHECKCONFIGACCESSKEY';
const SK = 'check-config-secret-key-0123456789';

let harbor: HarborStandIn;
let swr: SwrStandIn;
let dir: string;

beforeAll(async () => {
  [harbor, swr] = await Promise.all([
    startHarbor({ projects: [{ name: 'proj', public: false }] }),
    startSwr({ ak: AK, sk: SK, namespaces: ['mirror'], requestsPerSecond: 0 }),
  ]);
  dir = await mkdtemp(join(tmpdir(), 'swr-harbor-sync-check-'));
});

afterAll(async () => {
  await Promise.all([harbor?.stop(), swr?.stop()]);
  await rm(dir, { recursive: true, force: true });
});

function raw(extra: Record<string, string> = {}): Record<string, string> {
  return {
    HWAuthMethod: 'AKSK',
    HWAK: AK,
    HWSK: SK,
    RegionName: 'cn-north-4',
    HarborAddr: harbor.host,
    HarborProtocol: 'http',
    HarborUser: 'admin',
    HarborPassword: 'Harbor12345',
    SWRRegistry: swr.host,
    SWRProtocol: 'http',
    NamespaceMap: 'proj:mirror;ghost:later',
    LogDir: join(dir, 'logs'),
    DataDir: join(dir, 'data'),
    ...extra,
  };
}

test('every check is reported: a missing Harbor project and a wrong SWR login fail, the rest pass', async () => {
  nock('https://swr-api.cn-north-4.myhuaweicloud.com')
    .get('/v2/manage/namespaces')
    .times(2)
    .reply(200, { namespaces: [{ name: 'mirror', auth: 7 }] });
  const results = await preflight(parseConfig(raw()));
  const byWhat = Object.fromEntries(results.map((r) => [r.what, r]));
  expect(byWhat['Harbor project proj']).toMatchObject({ ok: true, detail: 'private, readable' });
  expect(byWhat['Harbor project ghost']).toMatchObject({ ok: false });
  expect(byWhat['Harbor project ghost'].detail).toMatch(/no project "ghost": fix NamespaceMap/);
  expect(byWhat[`SWR registry ${swr.host}`]).toMatchObject({ ok: true });
  expect(byWhat['SWR namespace mirror']).toMatchObject({ ok: true, detail: 'exists, pushable' });
  expect(byWhat['SWR namespace later'].detail).toMatch(/created at the first push/);

  const wrong = await preflight(parseConfig(raw({ HWSK: 'not-the-right-secret-key', SWRManageNamespaces: 'false' })));
  const registry = wrong.find((r) => r.what === `SWR registry ${swr.host}`)!;
  expect(registry.ok).toBe(false);
  expect(registry.detail).toMatch(/credentials/);
  expect(JSON.stringify(wrong)).not.toContain('not-the-right-secret-key');
});

test('the command prints one line per check and exits 1 when any fails, 0 when all pass, 2 for an invalid configuration', async () => {
  const file = join(dir, 'app.conf');
  const lines = (values: Record<string, string>) =>
    Object.entries(values)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n');
  await writeFile(file, lines(raw({ SWRManageNamespaces: 'false' })));
  const failing = await runCli(['check-config'], { CONFIG_FILE: file });
  expect(failing.code).toBe(1);
  expect(failing.stdout).toMatch(/^ok {3}Harbor project proj: private, readable$/m);
  expect(failing.stdout).toMatch(/^FAIL Harbor project ghost: .*no project "ghost"/m);
  expect(failing.stdout).toMatch(/^1 check failed$/m);

  await writeFile(file, lines(raw({ SWRManageNamespaces: 'false', NamespaceMap: 'proj:mirror' })));
  const passing = await runCli(['check-config'], { CONFIG_FILE: file });
  expect(passing.stdout).toMatch(/^all checks passed$/m);
  expect(passing.code).toBe(0);

  await writeFile(file, lines(raw({ RegionName: 'mars-north-1' })));
  const invalid = await runCli(['check-config'], { CONFIG_FILE: file });
  expect(invalid.code).toBe(2);
  expect(invalid.stderr).toMatch(
    /^error: configuration: RegionName "mars-north-1" is not a region SWR serves; use one of af-south-1, /m,
  );
});

test('QueueBackend=redis: Redis is checked with a write, its password never shown; a bad RedisURL is a configuration error', async () => {
  const redis = await startRedis({ password: 'redis-secret-pw-123' });
  try {
    const ok = await preflight(
      parseConfig(
        raw({ SWRManageNamespaces: 'false', NamespaceMap: 'proj:mirror', QueueBackend: 'redis', RedisURL: redis.url }),
      ),
    );
    const line = ok.find((r) => r.what.startsWith('Redis '))!;
    expect(line).toEqual({ ok: true, what: `Redis redis://:***@${redis.host}`, detail: 'answers and takes writes' });
    // No data directory check on Redis: nothing is kept there.
    expect(ok.some((r) => r.what.startsWith('data directory'))).toBe(false);

    const wrongPassword = redis.url.replace('redis-secret-pw-123', 'wrong-pw-456');
    const refused = await preflight(
      parseConfig(
        raw({
          SWRManageNamespaces: 'false',
          NamespaceMap: 'proj:mirror',
          QueueBackend: 'redis',
          RedisURL: wrongPassword,
        }),
      ),
    );
    const failed = refused.find((r) => r.what.startsWith('Redis '))!;
    expect(failed.ok).toBe(false);
    expect(failed.detail).toMatch(/cannot use Redis: .*(WRONGPASS|NOAUTH|invalid)/i);
    expect(JSON.stringify(refused)).not.toMatch(/wrong-pw-456|redis-secret-pw-123/);
  } finally {
    await redis.stop();
  }
  expect(() => parseConfig(raw({ QueueBackend: 'redis' }))).toThrow(/QueueBackend=redis needs RedisURL/);
  expect(() => parseConfig(raw({ QueueBackend: 'redis', RedisURL: 'redis://:pw-in-url@h:6379/x' }))).toThrow(
    /RedisURL database must be a number/,
  );
  expect(() => parseConfig(raw({ QueueBackend: 'redis', RedisURL: 'redis://:pw-in-url@h:6379/x' }))).not.toThrow(
    /pw-in-url/,
  );
  expect(() => parseConfig(raw({ QueueBackend: 'redis', RedisURL: 'http://h:6379' }))).toThrow(
    /RedisURL must start with redis:\/\/ or rediss:\/\//,
  );
});

test("SWR's error text is quoted on the check's line: trimmed, control characters escaped", async () => {
  nock('https://swr-api.cn-north-4.myhuaweicloud.com')
    .get('/v2/manage/namespaces')
    .reply(400, 'Bad Request\n<p>\u001b[2Jgone</p>\n');
  const results = await preflight(parseConfig(raw({ NamespaceMap: 'proj:mirror' })));
  expect(results.find((r) => r.what === 'SWR namespace mirror')).toEqual({
    ok: false,
    what: 'SWR namespace mirror',
    detail:
      'list SWR namespaces at swr-api.cn-north-4.myhuaweicloud.com failed: 400 Bad Request\\n<p>\\u001b[2Jgone</p>',
  });
});
