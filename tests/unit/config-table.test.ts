// The configuration table on its own: each kind's parsing, defaults and bounds, the secret flags, and the
// per-destination keys read under a prefix. Pure functions, no files, no network.
import { describe, expect, test } from '@jest/globals';
import { CONFIG_KEYS, DESTINATION_KEYS, SECRET_KEYS } from '../../src/config/keys.js';
import { keyReader } from '../../src/config/read-keys.js';

function read<K extends keyof typeof CONFIG_KEYS>(key: K, value: string | undefined) {
  const problems: string[] = [];
  const result = keyReader(CONFIG_KEYS, value === undefined ? {} : { [key]: value }, problems).get(key);
  return { value: result, problems };
}

describe('kinds', () => {
  test('a boolean takes true/1/yes and false/0/no in any case, else names the key and the value', () => {
    expect(read('ImageOverwrite', 'YES').value).toBe(true);
    expect(read('ImageOverwrite', '0').value).toBe(false);
    expect(read('ImageOverwrite', 'maybe').problems).toEqual(['ImageOverwrite must be true or false, got "maybe"']);
  });

  test('a whole number is bounded both ways, bounds included', () => {
    expect(CONFIG_KEYS.Port).toMatchObject({ min: 1, max: 65535, default: '5000' });
    expect(read('Port', '1').value).toBe(1);
    expect(read('Port', '65535').value).toBe(65535);
    expect(read('Port', '0').problems).toEqual(['Port must be a whole number from 1 to 65535, got "0"']);
    expect(read('Port', '8.5').problems).toEqual(['Port must be a whole number from 1 to 65535, got "8.5"']);
  });

  test('a number may be fractional, from its minimum up', () => {
    expect(read('SWRRequestsPerSecond', '0.5').value).toBe(0.5);
    expect(read('SWRRequestsPerSecond', '-1').problems).toEqual([
      'SWRRequestsPerSecond must be a number of at least 0, got "-1"',
    ]);
  });

  test('a choice matches without case and comes back as declared', () => {
    expect(read('ManifestFormat', 'DOCKER').value).toBe('docker');
    expect(read('LogFormat', 'xml').problems).toEqual(['LogFormat must be one of text, json, got "xml"']);
  });

  test('a duration is in milliseconds, 0 or 1s to 24h', () => {
    expect(read('ReconcileInterval', '1h30m').value).toBe(90 * 60_000);
    expect(read('ReconcileInterval', '0').value).toBe(0);
    expect(read('ReconcileInterval', '25h').problems).toHaveLength(1);
  });

  test('values are trimmed and an empty value is no value', () => {
    expect(read('Port', ' 8080 ').value).toBe(8080);
    expect(read('ListenAddress', '   ').value).toBe('0.0.0.0');
  });

  test('a required key that is empty says it is missing, once', () => {
    expect(read('HarborAddr', '').problems).toEqual([
      'HarborAddr is missing: the Harbor host name or IP, with :port if not the default (e.g. harbor.example.com)',
    ]);
  });

  test('a key read twice reports its problem once', () => {
    const problems: string[] = [];
    const { get } = keyReader(CONFIG_KEYS, { Port: 'x' }, problems);
    get('Port');
    get('Port');
    expect(problems).toHaveLength(1);
  });
});

describe('defaults', () => {
  test.each([
    ['ImageOverwrite', false],
    ['HarborProtocol', 'https'],
    ['Port', 5000],
    ['LogDir', '/var/log/swr_harbor_sync'],
    ['ReconcileInterval', 15 * 60_000],
    ['SWRRequestsPerSecond', 20],
    ['RedisKeyPrefix', 'shs'],
    ['JobLockSeconds', 30],
    ['HWAK', undefined],
  ] as const)('%s defaults to %p', (key, expected) => {
    expect(read(key, undefined)).toEqual({ value: expected, problems: [] });
  });

  test('every declared default parses without a problem under its own kind', () => {
    for (const [key, spec] of Object.entries(CONFIG_KEYS)) {
      if (spec.default === undefined) continue;
      const problems: string[] = [];
      spec.parse(spec.default, key, problems);
      expect({ key, problems }).toEqual({ key, problems: [] });
    }
  });
});

test('the secret keys are the six that have always been secret, in the order the start-up log names them', () => {
  expect(SECRET_KEYS).toEqual(['HWSK', 'HWPassword', 'HarborPassword', 'SWRPassword', 'WebhookAuthHeader', 'ApiToken']);
});

describe('keys per destination', () => {
  test('are declared once in the table and flagged', () => {
    expect(Object.keys(DESTINATION_KEYS)).toEqual(
      expect.arrayContaining([
        'RegionName',
        'HWAuthMethod',
        'HWSK',
        'SWRRegistry',
        'SWRProtocol',
        'SWRPassword',
        'SWRApiEndpoint',
      ]),
    );
    expect(Object.keys(DESTINATION_KEYS)).not.toContain('HarborAddr');
    expect(DESTINATION_KEYS.SWRProtocol).toBe(CONFIG_KEYS.SWRProtocol);
  });

  test('read under a prefix: values from the prefixed keys, problems naming them, defaults as for one destination', () => {
    const raw = {
      DEST1_RegionName: 'cn-east-3',
      DEST2_RegionName: 'nowhere',
      DEST2_SWRProtocol: 'ftp',
      RegionName: 'cn-north-4',
    };
    const problems: string[] = [];
    const one = keyReader(DESTINATION_KEYS, raw, problems, 'DEST1_').all();
    expect(one).toMatchObject({
      RegionName: 'cn-east-3',
      SWRProtocol: 'https',
      SWRManageNamespaces: true,
      SWRRequestsPerSecond: 20,
    });
    // HWAuthMethod may be left out when SWRUser gives a login: its absence is judged with SWRUser, by the
    // destination reader (tests/service/config.test.ts), not here.
    expect(problems).toEqual([]);

    problems.length = 0;
    const { get } = keyReader(DESTINATION_KEYS, raw, problems, 'DEST2_');
    get('RegionName');
    get('SWRProtocol');
    expect(problems).toEqual([
      expect.stringMatching(/^DEST2_RegionName "nowhere" is not a region SWR serves/),
      'DEST2_SWRProtocol must be one of http, https, got "ftp"',
    ]);
  });
});
