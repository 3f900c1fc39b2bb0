// Huawei Cloud's APIs, which cannot run here, answered by nock exactly as documented: request signing checked
// against Huawei's published test vector and re-verified on every management call, IAM tokens, the temporary
// registry login, namespace management, and SWR's error bodies turned into advice.
import { createHash, createHmac } from 'node:crypto';
import { afterEach, describe, expect, test } from '@jest/globals';
import nock from 'nock';
import { IamTokenSource } from '../../src/swr/iam.js';
import { aksklogin } from '../../src/swr/login.js';
import { SwrManagementClient } from '../../src/swr/management.js';
import { NamespaceError, NamespaceGuard } from '../../src/swr/namespaces.js';
import { canonicalRequest, signRequest } from '../../src/swr/signer.js';

const API = 'https://swr-api.cn-north-4.myhuaweicloud.com';
const IAM = 'https://iam.cn-north-4.myhuaweicloud.com';
const AK = 'HPUAEXAMPLEACCESSKEY';
const SK = 'ExampleSecretKeyForTests0123456789abcdef';

afterEach(() => {
  nock.cleanAll();
});

describe('APIG SDK-HMAC-SHA256 signing', () => {
  test("reproduces Huawei's published test vector", () => {
    const url = new URL(
      'https://service.region.example.com/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs?limit=2&marker=13551d6b-755d-4757-b956-536f674975c0',
    );
    const canonical = canonicalRequest(
      { method: 'GET', url, headers: { 'Content-Type': 'application/json', 'X-Sdk-Date': '20191115T033655Z' } },
      ['content-type', 'host', 'x-sdk-date'],
    );
    expect(createHash('sha256').update(canonical).digest('hex')).toBe(
      'b25362e603ee30f4f25e7858e8a7160fd36e803bb2dfe206278659d71a9bcd7a',
    );
    const headers = signRequest(
      { method: 'GET', url, headers: { 'Content-Type': 'application/json' } },
      'QTWAOYTTINDUT2QVKYUC',
      'MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc',
      new Date(Date.UTC(2019, 10, 15, 3, 36, 55)),
    );
    expect(headers['X-Sdk-Date']).toBe('20191115T033655Z');
    expect(headers.Authorization).toBe(
      'SDK-HMAC-SHA256 Access=QTWAOYTTINDUT2QVKYUC, SignedHeaders=content-type;host;x-sdk-date, Signature=7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe',
    );
  });

  test('the long-term registry login is region@AK and the hex HMAC of the AK keyed with the SK', () => {
    expect(aksklogin('cn-north-4', AK, SK)).toEqual({
      username: `cn-north-4@${AK}`,
      password: createHmac('sha256', SK).update(AK).digest('hex'),
    });
  });
});

/** Verifies a signed request the way the gateway does: recompute the signature from the request as received. */
function verifySignature(
  method: string,
  path: string,
  headers: Record<string, string | string[]>,
  body: string,
): boolean {
  const flat = Object.fromEntries(
    Object.entries(headers).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v.join(',') : v]),
  );
  const match = /^SDK-HMAC-SHA256 Access=([^,]+), SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
    flat.authorization ?? '',
  );
  if (!match || match[1] !== AK) return false;
  const signed = match[2].split(';');
  const url = new URL(path, API);
  const canonical = canonicalRequest(
    { method, url, headers: Object.fromEntries(signed.map((h) => [h, flat[h] ?? ''])), body },
    signed,
  );
  const stringToSign = `SDK-HMAC-SHA256\n${flat['x-sdk-date']}\n${createHash('sha256').update(canonical).digest('hex')}`;
  return createHmac('sha256', SK).update(stringToSign).digest('hex') === match[3];
}

describe('namespaces through the signed management API', () => {
  const client = () => new SwrManagementClient(API, { kind: 'aksk', ak: AK, sk: SK }, 'cn-north-4');

  test('an existing namespace of ours is used as it is', async () => {
    const scope = nock(API)
      .get('/v2/manage/namespaces')
      .reply(function () {
        return verifySignature('GET', '/v2/manage/namespaces', this.req.headers, '')
          ? [200, { namespaces: [{ id: 1, name: 'team-a', creator_name: 'me', auth: 7 }] }]
          : [401, [{ errorCode: 'SVCSTG.SWR.4010000', errorMessage: 'bad signature' }]];
      });
    await new NamespaceGuard(client()).ensureNamespace('team-a');
    expect(scope.isDone()).toBe(true);
  });

  test('an absent namespace is created with a signed POST', async () => {
    let created: unknown;
    const scope = nock(API)
      .get('/v2/manage/namespaces')
      .reply(200, { namespaces: [] })
      .post('/v2/manage/namespaces', (body: unknown) => ((created = body), true))
      .reply(function (_uri, body) {
        return verifySignature('POST', '/v2/manage/namespaces', this.req.headers, JSON.stringify(body))
          ? [201, '']
          : [401, [{ errorCode: 'SVCSTG.SWR.4000031', errorMessage: 'invalid AK/SK' }]];
      });
    await new NamespaceGuard(client()).ensureNamespace('fresh');
    expect(created).toEqual({ namespace: 'fresh' });
    expect(scope.isDone()).toBe(true);
  });

  test('409 for a name that is not among ours: owned by another tenant, a clear error', async () => {
    nock(API)
      .get('/v2/manage/namespaces')
      .twice()
      .reply(200, { namespaces: [{ name: 'mine', auth: 7 }] })
      .post('/v2/manage/namespaces')
      .reply(409, [{ errorCode: 'SVCSTG.SWR.4090060', errorMessage: 'Namespace already exists', detail: '' }]);
    const failure = await new NamespaceGuard(client()).ensureNamespace('taken').catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(NamespaceError);
    expect((failure as Error).message).toMatch(
      /"taken" belongs to another Huawei Cloud account.*nothing was pushed.*NamespaceMap/,
    );
  });

  test('quota exceeded says what to do', async () => {
    nock(API)
      .get('/v2/manage/namespaces')
      .reply(200, { namespaces: [] })
      .post('/v2/manage/namespaces')
      .reply(400, [{ errorCode: 'SVCSTG.SWR.4000097', errorMessage: 'Quota exceeded' }]);
    await expect(new NamespaceGuard(client()).ensureNamespace('sixth')).rejects.toThrow(
      /4000097 Quota exceeded: the namespace quota of the account is used up .*NamespaceMap/,
    );
  });

  test('a read-only namespace is refused before any push', async () => {
    nock(API)
      .get('/v2/manage/namespaces')
      .reply(200, { namespaces: [{ name: 'shared', auth: 1 }] });
    await expect(new NamespaceGuard(client()).ensureNamespace('shared')).rejects.toThrow(
      /may only read SWR namespace "shared"/,
    );
  });

  test('a refused signature names the AK/SK', async () => {
    nock(API)
      .get('/v2/manage/namespaces')
      .reply(401, [{ errorCode: 'SVCSTG.SWR.4000031', errorMessage: 'Invalid AK/SK' }]);
    await expect(client().listNamespaces()).rejects.toThrow(
      /4000031 Invalid AK\/SK: the AK\/SK pair is invalid: check HWAK and HWSK/,
    );
  });
});

describe('Password method: IAM token and temporary login', () => {
  const iam = () =>
    new IamTokenSource({
      endpoint: IAM,
      domain: 'acme',
      user: 'deployer',
      password: 'iam-password-value',
      region: 'cn-north-4',
    });

  test('the IAM token goes into X-Auth-Token and buys a temporary registry login', async () => {
    let identity: unknown;
    nock(IAM)
      .post('/v3/auth/tokens', (body: { auth: unknown }) => ((identity = body.auth), true))
      .reply(
        201,
        { token: { expires_at: new Date(Date.now() + 24 * 3600_000).toISOString() } },
        { 'X-Subject-Token': 'iam-token-value' },
      );
    const login = Buffer.from('cn-north-4@TEMPAK:temporary-password').toString('base64');
    nock(API, { reqheaders: { 'x-auth-token': 'iam-token-value' } })
      .post('/v2/manage/utils/secret')
      .query({ projectname: 'cn-north-4' })
      .reply(
        200,
        { auths: { 'swr.cn-north-4.myhuaweicloud.com': { auth: login } } },
        { 'X-Swr-Expireat': new Date(Date.now() + 6 * 3600_000).toISOString() },
      );
    const client = new SwrManagementClient(API, { kind: 'iam', tokens: iam() }, 'cn-north-4');
    const temporary = await client.temporaryLogin();
    expect(temporary).toMatchObject({ username: 'cn-north-4@TEMPAK', password: 'temporary-password' });
    expect(identity).toEqual({
      identity: {
        methods: ['password'],
        password: { user: { name: 'deployer', password: 'iam-password-value', domain: { name: 'acme' } } },
      },
      scope: { project: { name: 'cn-north-4' } },
    });
  });

  test('an empty HWUser logs in as the account itself', async () => {
    let user: unknown;
    nock(IAM)
      .post(
        '/v3/auth/tokens',
        (body: { auth: { identity: { password: { user: unknown } } } }) => (
          (user = body.auth.identity.password.user),
          true
        ),
      )
      .reply(201, {}, { 'X-Subject-Token': 't' });
    await new IamTokenSource({
      endpoint: IAM,
      domain: 'acme',
      password: 'pw-account-value',
      region: 'cn-north-4',
    }).token();
    expect(user).toEqual({ name: 'acme', password: 'pw-account-value', domain: { name: 'acme' } });
  });

  test('a wrong password names the account and user, and not the password', async () => {
    nock(IAM)
      .post('/v3/auth/tokens')
      .reply(401, { error: { code: 401, message: 'The username or password is wrong.' } });
    const failure = (await iam()
      .token()
      .catch((e: unknown) => e)) as Error;
    expect(failure.message).toMatch(
      /IAM refused the login of deployer in account acme: check HWDomain, HWUser and HWPassword/,
    );
    expect(failure.message).not.toContain('iam-password-value');
  });

  test('the token is reused until shortly before it expires', async () => {
    const scope = nock(IAM)
      .post('/v3/auth/tokens')
      .once()
      .reply(
        201,
        { token: { expires_at: new Date(Date.now() + 24 * 3600_000).toISOString() } },
        { 'X-Subject-Token': 'one' },
      );
    const source = iam();
    expect(await source.token()).toBe('one');
    expect(await source.token()).toBe('one');
    expect(scope.isDone()).toBe(true);
  });
});
