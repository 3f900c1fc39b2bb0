// The configuration: the old tool's app.conf read as it was written, every problem named in one error,
// no secret ever echoed, and the file lookup order with the environment on top (as `docker run --env-file`).
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { ConfigError, loadConfig, parseConfig, SECRET_KEYS } from '../../src/config/config.js';
import { CONFIG_KEYS, type ConfigKey } from '../../src/config/keys.js';
import { SWR_REGIONS } from '../../src/config/regions.js';

// The template of the old tool's manual, verbatim (with its XXX placeholders).
const OLD_TOOL_APP_CONF = `ImageOverwrite=false
NamespaceMap=harbor_project1:swr_namespace1;harbor_project2:swr_namespace2
HWAuthMethod=AKSK
HWAK=XXXXXXXXXXXXX
HWSK=XXXXXXXXXXXXXXXXXXXXX
HWDomain=sunXXXXXX
HWUser=XXXXXX
HWPassword=XXXXXXX
RegionName=cn-north-1
HarborUser=admin
HarborPassword=******
HarborAddr=mango.nat300.top
HarborProtocol=https
`;

/** A minimal valid configuration to vary one key at a time. */
const VALID: Record<string, string> = {
  NamespaceMap: 'library:mycompany',
  HWAuthMethod: 'AKSK',
  HWAK: 'AKEXAMPLE0000000001',
  HWSK: 'sk-example-value-000000001',
  RegionName: 'cn-north-4',
  HarborAddr: 'harbor.example.com',
};

function configError(raw: Record<string, string>): ConfigError {
  try {
    parseConfig(raw);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`parseConfig accepted ${JSON.stringify(Object.keys(raw))}`);
}

describe("the old tool's app.conf", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'swr-harbor-sync-config-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('parses with the right values and our defaults', async () => {
    await writeFile(join(dir, 'app.conf'), OLD_TOOL_APP_CONF);
    const config = loadConfig({}, dir);
    expect(config.imageOverwrite).toBe(false);
    expect([...config.namespaceMap]).toEqual([
      ['harbor_project1', 'swr_namespace1'],
      ['harbor_project2', 'swr_namespace2'],
    ]);
    expect(config.hw).toEqual({
      authMethod: 'AKSK',
      ak: 'XXXXXXXXXXXXX',
      sk: 'XXXXXXXXXXXXXXXXXXXXX',
      domain: 'sunXXXXXX',
      user: 'XXXXXX',
      password: 'XXXXXXX',
      region: 'cn-north-1',
    });
    expect(config.harbor).toEqual({
      address: 'mango.nat300.top',
      protocol: 'https',
      user: 'admin',
      password: '******',
      skipTlsVerify: false,
      caCertificate: undefined,
      api: 'auto',
    });
    expect(config.swr).toEqual({
      registry: 'swr.cn-north-1.myhuaweicloud.com',
      explicit: false,
      protocol: 'https',
      user: undefined,
      password: undefined,
      apiEndpoint: 'https://swr-api.cn-north-1.myhuaweicloud.com',
      iamEndpoint: 'https://iam.cn-north-1.myhuaweicloud.com',
      manageNamespaces: true,
      skipTlsVerify: false,
      caCertificate: undefined,
    });
    expect(config.port).toBe(5000);
    expect(config.listenAddress).toBe('0.0.0.0');
    expect(config.logDir).toBe('/var/log/swr_harbor_sync');
    expect(config.dataDir).toBe('./data');
    expect(config.allowHeaderCredentials).toBe(true);
    expect(config.webhookAuthHeader).toBeUndefined();
    expect(config.apiToken).toBeUndefined();
    expect(config.source).toBe(`${join(dir, 'app.conf')} and the environment`);
  });

  test('eu-west-101 lives under myhuaweicloud.eu; other regions under .com', () => {
    expect(parseConfig({ ...VALID, RegionName: 'eu-west-101' }).swr.registry).toBe('swr.eu-west-101.myhuaweicloud.eu');
    expect(parseConfig({ ...VALID, RegionName: 'eu-west-0' }).swr.registry).toBe('swr.eu-west-0.myhuaweicloud.com');
    expect(parseConfig({ ...VALID, RegionName: 'ap-southeast-1' }).swr.registry).toBe(
      'swr.ap-southeast-1.myhuaweicloud.com',
    );
  });

  test('an explicit SWRRegistry wins over the region', () => {
    const config = parseConfig({ ...VALID, SWRRegistry: 'registry.internal:5000', SWRProtocol: 'http' });
    expect(config.swr).toMatchObject({ registry: 'registry.internal:5000', explicit: true, protocol: 'http' });
  });

  test('HarborAPI: auto by default, one of auto, v2, v1, registry, said so otherwise', () => {
    expect(parseConfig({ ...VALID, HarborAPI: 'V1' }).harbor.api).toBe('v1');
    expect(parseConfig({ ...VALID, HarborAPI: 'registry' }).harbor.api).toBe('registry');
    expect(configError({ ...VALID, HarborAPI: 'v3' }).problems).toEqual([
      'HarborAPI must be one of auto, v2, v1, registry, got "v3"',
    ]);
  });

  test('values are trimmed, booleans and protocols are case-insensitive', () => {
    const config = parseConfig({
      ...VALID,
      ImageOverwrite: ' TRUE ',
      HarborProtocol: 'HTTP',
      HWAuthMethod: 'aksk',
      Port: ' 19876 ',
    });
    expect(config.imageOverwrite).toBe(true);
    expect(config.harbor.protocol).toBe('http');
    expect(config.hw.authMethod).toBe('AKSK');
    expect(config.port).toBe(19876);
  });
});

describe('a wrong configuration', () => {
  const secrets = {
    HWSK: 'Sk-very-secret-9d8c7b6a5f4e',
    HWPassword: 'Hw-password-secret-1a2b3c',
    HarborPassword: 'Harbor-secret-4d5e6f7a',
  };

  test('gives ONE ConfigError that lists every problem, and no secret', () => {
    const error = configError({
      ImageOverwrite: 'maybe',
      NamespaceMap: 'a:b:c;9team:9team;team-a:team-a;team-a:other;;lonely',
      HWAuthMethod: 'AKSK',
      HWAK: 'AKEXAMPLE0000000001',
      // HWSK missing on purpose; HWPassword and HarborPassword set, and must not be echoed.
      HWPassword: secrets.HWPassword,
      HarborUser: 'admin',
      HarborPassword: secrets.HarborPassword,
      RegionName: 'cn-nowhere-7',
      HarborAddr: 'https://harbor.example.com/path',
      HarborProtocol: 'ftp',
      Port: 'abc',
    });
    const p = error.problems;
    expect(p).toEqual(
      expect.arrayContaining([
        'ImageOverwrite must be true or false, got "maybe"',
        'NamespaceMap entry "a:b:c" must be harbor_project:swr_namespace',
        'NamespaceMap entry "lonely" must be harbor_project:swr_namespace',
        'NamespaceMap names project "team-a" twice',
        'HWSK is required with HWAK (HWAuthMethod=AKSK)',
        'HarborProtocol must be one of http, https, got "ftp"',
        'Port must be a whole number from 1 to 65535, got "abc"',
      ]),
    );
    // A namespace starting with a digit: says why, and hints to map the project to another name.
    const digit = p.find((m) => m.includes('SWR namespace "9team"'));
    expect(digit).toMatch(/must start with a lowercase letter/);
    expect(digit).toMatch(/map the project to a name SWR accepts/);
    // The region: names the bad value and lists every valid one.
    const region = p.find((m) => m.startsWith('RegionName'));
    expect(region).toContain('"cn-nowhere-7"');
    for (const r of SWR_REGIONS) expect(region).toContain(r);
    expect(p.find((m) => m.startsWith('HarborAddr'))).toMatch(/without scheme or path.*HarborProtocol/);
    expect(p).toHaveLength(10);
    // The message carries them all, one per line.
    for (const problem of p) expect(error.message).toContain(problem);
    expect(error.message.split('\n  - ')).toHaveLength(p.length + 1);
    for (const secret of Object.values(secrets)) expect(error.message).not.toContain(secret);
  });

  test('secrets stay out of the message even when other keys are wrong around them', () => {
    const error = configError({
      ...VALID,
      ...secrets,
      HWAuthMethod: 'Password',
      HWDomain: '',
      RegionName: 'nowhere',
      JobRetries: '-1',
    });
    expect(error.problems).toEqual([
      'HWDomain is required with HWPassword (HWAuthMethod=Password)',
      expect.stringMatching(/^RegionName "nowhere" is not a region SWR serves/),
      'JobRetries must be a whole number from 0 to 100, got "-1"',
    ]);
    for (const secret of Object.values(secrets)) expect(error.message).not.toContain(secret);
  });

  test.each([
    [
      'nothing at all',
      {},
      ['NamespaceMap is missing', 'HWAuthMethod is missing', 'RegionName is missing', 'HarborAddr is missing'],
    ],
    [
      'HWAuthMethod=Password without HWDomain/HWPassword',
      { ...VALID, HWAuthMethod: 'Password' },
      ['HWDomain is required', 'HWPassword is required'],
    ],
    [
      'an unknown HWAuthMethod',
      { ...VALID, HWAuthMethod: 'Token' },
      ['HWAuthMethod must be one of AKSK, Password, got "Token"'],
    ],
    ['a Port out of range', { ...VALID, Port: '70000' }, ['Port must be a whole number from 1 to 65535, got "70000"']],
    [
      'an uppercase Harbor project',
      { ...VALID, NamespaceMap: 'Library:ns' },
      ['NamespaceMap: Harbor project "Library" may hold only'],
    ],
    [
      'a namespace with three underscores',
      { ...VALID, NamespaceMap: 'lib:a___b' },
      ['NamespaceMap: SWR namespace "a___b" (for project lib)'],
    ],
    ['a NamespaceMap of separators only', { ...VALID, NamespaceMap: ';;' }, ['NamespaceMap has no entries']],
    [
      'an SWRRegistry with a scheme',
      { ...VALID, SWRRegistry: 'https://swr.example.com' },
      ['SWRRegistry must be a host name'],
    ],
  ])('%s', (_name, raw, expected) => {
    const error = configError(raw);
    expect(error.problems).toHaveLength(expected.length);
    expected.forEach((start, i) => expect(error.problems[i]).toContain(start));
  });
});

test('SWRUser/SWRPassword need no HWAuthMethod; without them its absence names both ways out', () => {
  const { HWAuthMethod: _method, HWAK: _ak, HWSK: _sk, ...withoutKeys } = VALID;
  const config = parseConfig({ ...withoutKeys, SWRUser: 'robot', SWRPassword: 'robot-password-1' });
  expect(config.swr).toMatchObject({ user: 'robot', password: 'robot-password-1' });
  expect(configError(withoutKeys).problems).toEqual([
    'HWAuthMethod is missing: set AKSK (with HWAK and HWSK) or Password (with HWDomain, HWUser and HWPassword), or give SWRUser/SWRPassword, a registry login of their own',
  ]);
});

describe('where the configuration comes from', () => {
  let dir: string;
  const conf = (region: string, extra = '') =>
    `NamespaceMap=library:mycompany\nHWAuthMethod=AKSK\nHWAK=AKFILE\nHWSK=sk-from-file\nRegionName=${region}\nHarborAddr=harbor.example.com\n${extra}`;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'swr-harbor-sync-config-'));
    await mkdir(join(dir, 'config'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('CONFIG_FILE, then ./app.conf, then config/app.conf', async () => {
    await writeFile(join(dir, 'config', 'app.conf'), conf('cn-east-3'));
    expect(loadConfig({}, dir).hw.region).toBe('cn-east-3');
    expect(loadConfig({}, dir).source).toBe(`${join(dir, 'config', 'app.conf')} and the environment`);

    await writeFile(join(dir, 'app.conf'), conf('cn-south-1'));
    expect(loadConfig({}, dir).hw.region).toBe('cn-south-1');

    const chosen = join(dir, 'elsewhere.env');
    await writeFile(chosen, conf('ap-southeast-3'));
    const config = loadConfig({ CONFIG_FILE: chosen }, dir);
    expect(config.hw.region).toBe('ap-southeast-3');
    expect(config.source).toBe(`${chosen} and the environment`);
  });

  test('with no file the environment alone configures the service', () => {
    const config = loadConfig({ ...VALID }, dir);
    expect(config.source).toBe('environment only');
    expect(config.hw.region).toBe('cn-north-4');
  });

  test('the environment overrides the file key by key, as docker run --env-file does', async () => {
    await writeFile(join(dir, 'app.conf'), conf('cn-east-3', 'Port=19876\nImageOverwrite=false\n'));
    const config = loadConfig({ RegionName: 'eu-west-101', ImageOverwrite: 'true' }, dir);
    expect(config.hw.region).toBe('eu-west-101');
    expect(config.swr.registry).toBe('swr.eu-west-101.myhuaweicloud.eu');
    expect(config.imageOverwrite).toBe(true);
    // Keys the environment does not set still come from the file.
    expect(config.port).toBe(19876);
    expect(config.hw.sk).toBe('sk-from-file');
    expect([...config.namespaceMap]).toEqual([['library', 'mycompany']]);
  });

  test('CONFIG_FILE pointing at a missing file is an error naming it, even when ./app.conf exists', async () => {
    await writeFile(join(dir, 'app.conf'), conf('cn-east-3'));
    const missing = join(dir, 'no-such.conf');
    let caught: unknown;
    try {
      loadConfig({ CONFIG_FILE: missing }, dir);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).problems).toEqual([`CONFIG_FILE points at ${missing}, which does not exist`]);
  });

  test('a wrong value in the file is reported with the other problems', async () => {
    await writeFile(join(dir, 'app.conf'), conf('cn-east-3', 'HarborProtocol=ftp\n'));
    let caught: unknown;
    try {
      loadConfig({ Port: 'abc' }, dir);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).problems).toEqual([
      'HarborProtocol must be one of http, https, got "ftp"',
      'Port must be a whole number from 1 to 65535, got "abc"',
    ]);
  });
});

describe('the reconcile sweep keys', () => {
  test('default: every 15 minutes, not at start', () => {
    expect(parseConfig(VALID).reconcile).toEqual({ intervalMs: 15 * 60_000, onStart: false });
  });

  test.each([
    ['0', 0],
    ['30s', 30_000],
    ['15m', 15 * 60_000],
    ['1h', 3_600_000],
    ['1h30m', 90 * 60_000],
  ])('ReconcileInterval=%s', (value, ms) => {
    expect(parseConfig({ ...VALID, ReconcileInterval: value, ReconcileOnStart: 'true' }).reconcile).toEqual({
      intervalMs: ms,
      onStart: true,
    });
  });

  test.each(['15', '-5m', 'soon', '500ms', '25h', '1.5h'])(
    'ReconcileInterval=%s is refused with the accepted forms',
    (value) => {
      expect(configError({ ...VALID, ReconcileInterval: value }).problems).toEqual([
        `ReconcileInterval must be 0 (off) or a duration from 1s to 24h such as 30s, 15m or 1h, got "${value}"`,
      ]);
    },
  );

  test('ReconcileOnStart must be a boolean', () => {
    expect(configError({ ...VALID, ReconcileOnStart: 'sometimes' }).problems).toEqual([
      'ReconcileOnStart must be true or false, got "sometimes"',
    ]);
  });
});

test("every key of the table is in config/app.conf.example and in the README's tables, with its default and secret flag", async () => {
  const keys = Object.keys(CONFIG_KEYS) as ConfigKey[];
  expect(keys.length).toBeGreaterThan(40);
  const example = await readFile(new URL('../../config/app.conf.example', import.meta.url), 'utf8');
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  const tableRows = readme.split('\n').filter((l) => l.startsWith('| `'));
  const row = (k: string) => tableRows.find((r) => r.split('|')[1].includes(`\`${k}\``));
  expect({ missingFromExample: keys.filter((k) => !new RegExp(`^${k}=`, 'm').test(example)) }).toEqual({
    missingFromExample: [],
  });
  expect({ missingFromReadme: keys.filter((k) => !row(k)) }).toEqual({ missingFromReadme: [] });
  const defaulted = keys.filter((k) => CONFIG_KEYS[k].default !== undefined);
  expect({
    exampleDefaultDiffers: defaulted.filter(
      (k) =>
        !new RegExp(`^${k}=${CONFIG_KEYS[k].default!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`, 'm').test(example),
    ),
  }).toEqual({ exampleDefaultDiffers: [] });
  expect({
    readmeDefaultDiffers: defaulted.filter((k) => !row(k)?.split('|')[2]!.includes(`\`${CONFIG_KEYS[k].default}\``)),
  }).toEqual({ readmeDefaultDiffers: [] });
  expect({ secretNotMarked: SECRET_KEYS.filter((k) => !row(k)?.split('|')[1]!.includes('*secret*')) }).toEqual({
    secretNotMarked: [],
  });
});
