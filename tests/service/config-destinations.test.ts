// Several destinations in app.conf: NamespaceMap's `region/namespace` and `name/namespace` targets, Destinations
// with each destination's keys under its name, and every mistake named with what to write instead.
import { describe, expect, test } from '@jest/globals';
import { parseConfig } from '../../src/config/config.js';
import { configProblems } from '../harness/config-problems.js';

const VALID: Record<string, string> = {
  NamespaceMap: 'proj1:ns1',
  HWAuthMethod: 'AKSK',
  HWAK: 'AKEXAMPLE0000000001',
  HWSK: 'sk-example-value-000000001',
  RegionName: 'cn-north-4',
  HarborAddr: 'harbor.example.com',
};

/** A named destination `dr` in another account, on a registry of its own. */
const DR: Record<string, string> = {
  Destinations: 'dr',
  dr_HWAuthMethod: 'AKSK',
  dr_HWAK: 'AKDRDESTINATION00001',
  dr_HWSK: 'dr-secret-key-value-0001',
  dr_RegionName: 'cn-south-1',
  dr_SWRRegistry: 'registry.dr.example:5000',
  dr_SWRProtocol: 'http',
  dr_SWRRequestsPerSecond: '5',
  dr_SWRManageNamespaces: 'false',
};

/** What is wrong with the valid keys changed by `raw`. */
const problems = (raw: Record<string, string>): string[] => configProblems({ ...VALID, ...raw });

describe('several destinations', () => {
  test("the issue's example: a project to a namespace here and one in another region of the same account", () => {
    const config = parseConfig({ ...VALID, NamespaceMap: 'proj1:ns1,cn-south-1/ns1-dr;proj2:ns2' });
    expect(config.destinations.map((d) => [d.name, d.host])).toEqual([
      ['default', 'swr.cn-north-4.myhuaweicloud.com'],
      ['cn-south-1', 'swr.cn-south-1.myhuaweicloud.com'],
    ]);
    const region = config.destinations[1];
    // The same account in that region: its keys, that region's registry, API and IAM.
    expect(region.hw).toEqual({ ...config.hw, region: 'cn-south-1' });
    expect(region.swr.apiEndpoint).toBe('https://swr-api.cn-south-1.myhuaweicloud.com');
    expect(region.swr.iamEndpoint).toBe('https://iam.cn-south-1.myhuaweicloud.com');
    expect(config.targets.get('proj1')).toEqual([
      { destination: 'swr.cn-north-4.myhuaweicloud.com', namespace: 'ns1' },
      { destination: 'swr.cn-south-1.myhuaweicloud.com', namespace: 'ns1-dr' },
    ]);
    expect(config.targets.get('proj2')).toEqual([
      { destination: 'swr.cn-north-4.myhuaweicloud.com', namespace: 'ns2' },
    ]);
    // The old tool's view, for the manual call and `sync`: the namespace at the default destination.
    expect([...config.namespaceMap]).toEqual([
      ['proj1', 'ns1'],
      ['proj2', 'ns2'],
    ]);
  });

  test('a named destination reads its own keys under its name', () => {
    const config = parseConfig({ ...VALID, ...DR, NamespaceMap: 'proj1:ns1,dr/ns1;proj2:dr/only-dr' });
    const dr = config.destinations[1];
    expect(dr).toMatchObject({
      name: 'dr',
      host: 'registry.dr.example:5000',
      hw: { authMethod: 'AKSK', ak: 'AKDRDESTINATION00001', sk: 'dr-secret-key-value-0001', region: 'cn-south-1' },
      swr: { protocol: 'http', explicit: true, manageNamespaces: false },
      requestsPerSecond: 5,
    });
    // The default destination keeps the unprefixed keys.
    expect(config.destinations[0]).toMatchObject({ host: 'swr.cn-north-4.myhuaweicloud.com', requestsPerSecond: 20 });
    expect(config.targets.get('proj2')).toEqual([{ destination: 'registry.dr.example:5000', namespace: 'only-dr' }]);
    expect(config.namespaceMap.get('proj2')).toBe('only-dr');
  });

  test('one destination, as before: the default one only, and its targets', () => {
    const config = parseConfig({ ...VALID, NamespaceMap: 'proj1:ns1;proj2:ns2' });
    expect(config.destinations).toHaveLength(1);
    expect(config.targets.get('proj2')).toEqual([
      { destination: 'swr.cn-north-4.myhuaweicloud.com', namespace: 'ns2' },
    ]);
  });

  test.each([
    [
      'a destination Destinations does not declare',
      { ...DR, NamespaceMap: 'proj1:ns1,backup/ns1' },
      [
        'NamespaceMap: "backup/ns1" (for project proj1) names destination backup, which Destinations (dr) does not declare: add it there with its keys (backup_RegionName, backup_HWAK, ...), or write a region SWR serves',
      ],
    ],
    [
      'a named destination without Destinations',
      { NamespaceMap: 'proj1:ns1,dr/ns1' },
      [
        'NamespaceMap: "dr/ns1" (for project proj1) names destination dr, which Destinations is not set to declare: add it there with its keys (dr_RegionName, dr_HWAK, ...), or write a region SWR serves',
      ],
    ],
    [
      "a region that is not SWR's",
      { NamespaceMap: 'proj1:ns1,cn-nowhere-9/ns1' },
      [
        'NamespaceMap: "cn-nowhere-9/ns1" (for project proj1) names region "cn-nowhere-9", which is not a region SWR serves',
      ],
    ],
    [
      'another region while SWRRegistry names the registry',
      { SWRRegistry: 'registry.example:5000', NamespaceMap: 'proj1:ns1,cn-south-1/ns1' },
      [
        'NamespaceMap: "cn-south-1/ns1" (for project proj1) names region cn-south-1, but SWRRegistry sets the default destination\'s registry explicitly',
      ],
    ],
    [
      'a named destination missing its keys',
      { Destinations: 'dr', NamespaceMap: 'proj1:ns1,dr/ns1' },
      ['dr_HWAuthMethod is missing: set AKSK', 'dr_RegionName is missing: one of'],
    ],
    [
      'a named destination with half a key pair',
      { ...DR, dr_HWSK: '', NamespaceMap: 'proj1:ns1,dr/ns1' },
      ['dr_HWSK is required with dr_HWAK (dr_HWAuthMethod=AKSK)'],
    ],
    [
      'a named destination whose keys are all missing, without its own registry login',
      { ...DR, dr_HWAK: '', dr_HWSK: '', NamespaceMap: 'proj1:ns1,dr/ns1' },
      [
        'dr_HWAK is required when dr_HWAuthMethod=AKSK: the SWR login is derived from it, unless dr_SWRUser/dr_SWRPassword',
        'dr_HWSK is required when dr_HWAuthMethod=AKSK',
      ],
    ],
    [
      'a destination name that is no environment variable prefix',
      { Destinations: 'dr-1', NamespaceMap: 'proj1:ns1' },
      ['Destinations: "dr-1" is not a destination name: use 1 to 32 letters and digits'],
    ],
    [
      'a destination called default',
      { Destinations: 'default', NamespaceMap: 'proj1:ns1' },
      ['Destinations: "default" is the destination of the keys without prefix'],
    ],
    [
      'two destinations on one registry',
      { ...DR, dr_SWRRegistry: '', dr_RegionName: 'cn-north-4', NamespaceMap: 'proj1:ns1,dr/ns1' },
      ['destination dr writes to swr.cn-north-4.myhuaweicloud.com, as the default destination does'],
    ],
    [
      'one target twice',
      { NamespaceMap: 'proj1:ns1,cn-north-4/ns1' },
      ['NamespaceMap maps project proj1 to cn-north-4/ns1 twice'],
    ],
    [
      'a bad namespace in a second target',
      { NamespaceMap: 'proj1:ns1,cn-south-1/9bad' },
      ['NamespaceMap: SWR namespace "9bad" (for project proj1)'],
    ],
    [
      'an empty target',
      { NamespaceMap: 'proj1:ns1,' },
      ['NamespaceMap entry "proj1:ns1," must be harbor_project:swr_namespace'],
    ],
  ])('%s', (_name, raw, expected) => {
    const found = problems(raw);
    expect(found).toHaveLength(expected.length);
    expected.forEach((start, i) => expect(found[i]).toContain(start));
  });

  test("no named destination's secret is echoed", () => {
    const found = problems({ ...DR, dr_HWAK: '', NamespaceMap: 'proj1:ns1,dr/ns1', dr_SWRProtocol: 'ftp' });
    expect(found.join('\n')).not.toContain(DR.dr_HWSK);
    expect(found).toEqual(
      expect.arrayContaining([
        'dr_HWAK is required with dr_HWSK (dr_HWAuthMethod=AKSK)',
        'dr_SWRProtocol must be one of http, https, got "ftp"',
      ]),
    );
  });
});
