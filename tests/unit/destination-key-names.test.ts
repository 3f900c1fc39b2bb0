// A named destination's keys are spelled `dr_HWAK`, `dr_SWRManageNamespaces`, ... in app.conf: every message
// that tells the user which key to change names it that way, from the configuration's own problems to SWR's and
// IAM's refusals and the advice added to a failed image. Advice naming the default destination's `HWAK` would send
// the user to the wrong line. Huawei's APIs are answered by nock.
import { afterEach, describe, expect, test } from '@jest/globals';
import nock from 'nock';
import { parseConfig } from '../../src/config/config.js';
import type { Logs } from '../../src/logging/logs.js';
import { withDestination } from '../../src/service/contexts.js';
import { withoutKeysWarning } from '../../src/swr/account-keys.js';
import { swrDestination } from '../../src/swr/destination.js';
import { explainRegistryFailure, swrApiError } from '../../src/swr/errors.js';
import type { SyncContext } from '../../src/sync/context.js';
import { configProblems } from '../harness/config-problems.js';

const VALID: Record<string, string> = {
  NamespaceMap: 'proj1:ns1,dr/ns1',
  HWAuthMethod: 'AKSK',
  HWAK: 'AKEXAMPLE0000000001',
  HWSK: 'sk-example-value-000000001',
  RegionName: 'cn-north-4',
  HarborAddr: 'harbor.example.com',
  Destinations: 'dr',
  dr_RegionName: 'cn-south-1',
};

const DR_AKSK = { dr_HWAuthMethod: 'AKSK', dr_HWAK: 'AKDRDESTINATION00001', dr_HWSK: 'dr-secret-key-value-0001' };
const DR_API = 'https://swr-api.cn-south-1.myhuaweicloud.com';
const DR_IAM = 'https://iam.cn-south-1.myhuaweicloud.com';

/** Every bare destination key in `text` that is not part of a `dr_` one. */
const bareKeys = (text: string): string[] =>
  text.match(
    /(?<![\w])(HWAK|HWSK|HWDomain|HWUser|HWPassword|HWAuthMethod|SWRUser|SWRManageNamespaces|RegionName)\b/g,
  ) ?? [];

afterEach(() => {
  nock.cleanAll();
});

/** The SWR side of destination `dr` as the service builds it from `raw` (its management API and IAM). */
function drDestination(raw: Record<string, string>, apiEndpoint = DR_API) {
  const dr = parseConfig({ ...VALID, ...raw }).destinations[1];
  return swrDestination(dr.hw, { registry: dr.host, apiEndpoint, iamEndpoint: DR_IAM, manageNamespaces: true });
}

describe("a named destination's configuration problems", () => {
  test('a missing dr_HWAuthMethod names every way out with the dr_ keys', () => {
    const problems = configProblems(VALID);
    const missing = problems.find((p) => p.startsWith('dr_HWAuthMethod is missing'));
    expect(missing).toBe(
      'dr_HWAuthMethod is missing: set AKSK (with dr_HWAK and dr_HWSK) or Password (with dr_HWDomain, dr_HWUser and dr_HWPassword), or give dr_SWRUser/dr_SWRPassword, a registry login of their own',
    );
  });

  test('an invalid dr_HWAuthMethod is reported as invalid only, not also as missing', () => {
    const problems = configProblems({ ...VALID, dr_HWAuthMethod: 'Token' });
    expect(problems.filter((p) => p.startsWith('dr_HWAuthMethod'))).toHaveLength(1);
    expect(problems.some((p) => p.includes('dr_HWAuthMethod is missing'))).toBe(false);
  });

  test("the default destination's missing HWAuthMethod still names the keys without a prefix", () => {
    const raw: Record<string, string> = { ...VALID, ...DR_AKSK };
    delete raw.HWAuthMethod;
    expect(configProblems(raw)).toContain(
      'HWAuthMethod is missing: set AKSK (with HWAK and HWSK) or Password (with HWDomain, HWUser and HWPassword), or give SWRUser/SWRPassword, a registry login of their own',
    );
  });

  test('the warning for a registry login without keys names dr_ keys', () => {
    const config = parseConfig({
      ...VALID,
      dr_SWRUser: 'robot',
      dr_SWRPassword: 'robot-password-1',
      dr_SWRManageNamespaces: 'true',
    });
    const dr = config.destinations[1];
    const warning = withoutKeysWarning(dr.hw, true, true);
    expect(warning).toContain('dr_HWAK/dr_HWSK for dr_HWAuthMethod=AKSK');
    expect(warning).toContain('dr_SWRManageNamespaces=false');
    expect(bareKeys(warning ?? '')).toEqual([]);
  });
});

describe("SWR's and IAM's refusals for a named destination", () => {
  test('an invalid AK/SK pair at the management API says to check dr_HWAK and dr_HWSK', async () => {
    const built = drDestination(DR_AKSK);
    nock(DR_API)
      .get('/v2/manage/namespaces')
      .reply(
        401,
        JSON.stringify({ error_code: 'SVCSTG.SWR.4000031', error_msg: 'Incorrect IAM authentication information' }),
      );
    const error = await built.management!.listNamespaces().catch((e: Error) => e);
    expect((error as Error).message).toContain('check dr_HWAK and dr_HWSK');
    expect(bareKeys((error as Error).message)).toEqual([]);
  });

  test("IAM's refusal of the password login says to check dr_HWDomain, dr_HWUser and dr_HWPassword", async () => {
    const built = drDestination({
      dr_HWAuthMethod: 'Password',
      dr_HWDomain: 'dr-account',
      dr_HWPassword: 'dr-password-0001',
    });
    nock(DR_IAM)
      .post('/v3/auth/tokens')
      .reply(401, JSON.stringify({ error: { code: 401, message: 'The username or password is wrong.' } }));
    const error = await built.management!.listNamespaces().catch((e: Error) => e);
    expect((error as Error).message).toContain('check dr_HWDomain, dr_HWUser and dr_HWPassword');
    expect(bareKeys((error as Error).message)).toEqual([]);
  });

  test('an unreachable management API says to check dr_RegionName', async () => {
    const built = drDestination(DR_AKSK, 'http://127.0.0.1:1');
    nock.enableNetConnect('127.0.0.1');
    const error = await built.management!.listNamespaces().catch((e: Error) => e);
    expect((error as Error).message).toContain('check dr_RegionName (or dr_SWRApiEndpoint)');
    expect(bareKeys((error as Error).message)).toEqual([]);
  });

  test('without a prefix the advice names the keys as the default destination and the manual call spell them', () => {
    const error = swrApiError('list SWR namespaces', 401, '{"error_code":"SVCSTG.SWR.4000031"}');
    expect(error.message).toContain('check HWAK and HWSK');
    expect(swrApiError('x', 429, '{"error_code":"SVCSTG.SWR.4031032"}', 'dr_').message).toContain(
      'lower dr_SWRRequestsPerSecond',
    );
  });
});

describe('advice added to a failed image', () => {
  test("SWR's registry messages name the destination's keys", () => {
    const missing = explainRegistryFailure('denied: Image organization does not exist', 'ns1', 'dr_');
    expect(missing).toContain('dr_SWRManageNamespaces=true');
    const refused = explainRegistryFailure('UNAUTHORIZED: Authenticate Error', 'ns1', 'dr_');
    expect(refused).toContain('check dr_HWAK/dr_HWSK and dr_RegionName');
    expect(bareKeys(missing + refused)).toEqual([]);
  });

  test("the generic token refusal for a missing namespace gets SWR's advice too", () => {
    const reason =
      'token service https://dr.example/swr/auth refused a token for repository:ns1/app:pull,push (401): the namespace (organization) of this repository does not exist on dr.example: create it first';
    expect(explainRegistryFailure(reason, 'ns1', 'dr_')).toContain(
      'let the service create it (dr_SWRManageNamespaces=true)',
    );
  });

  test("a named destination's sync context carries its key prefix, the default's none", async () => {
    const config = parseConfig({ ...VALID, ...DR_AKSK });
    const logs = { service: { warn() {} } } as unknown as Logs;
    const drContext = withDestination({} as SyncContext, config, logs, config.destinations[1]);
    const defaultContext = withDestination({} as SyncContext, config, logs, config.destinations[0]);
    try {
      expect(drContext.keyPrefix).toBe('dr_');
      expect(defaultContext.keyPrefix).toBe('');
    } finally {
      await Promise.all([drContext.close(true), defaultContext.close(true)]);
    }
  });
});
