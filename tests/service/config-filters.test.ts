// The filter keys of app.conf: one pattern per mapped project, split as NamespaceMap is, and every problem
// naming the key, the pattern and the project it belongs to.
import { describe, expect, test } from '@jest/globals';
import { parseConfig } from '../../src/config/config.js';
import { configProblems } from '../harness/config-problems.js';

const VALID: Record<string, string> = {
  NamespaceMap: 'proj1:ns1;proj2:ns2',
  HWAuthMethod: 'AKSK',
  HWAK: 'AKEXAMPLE0000000001',
  HWSK: 'sk-example-value-000000001',
  RegionName: 'cn-north-4',
  HarborAddr: 'harbor.example.com',
};

/** What is wrong with the valid keys changed by `raw`. */
const problems = (raw: Record<string, string>): string[] => configProblems({ ...VALID, ...raw });

describe('filter keys', () => {
  test("the issue's example: rules per project, in the order they are asked, named as written", () => {
    const config = parseConfig({
      ...VALID,
      IncludeTags: 'proj1:{release-*,v*};proj2:**',
      ExcludeTags: 'proj1:*-rc*',
      IncludeRepositories: ' proj1 : team-a/** ',
      IncludeLabels: 'proj1:prod',
    });
    expect(config.filters.get('proj1')?.map((r) => r.name)).toEqual([
      'IncludeRepositories proj1:team-a/**',
      'IncludeTags proj1:{release-*,v*}',
      'ExcludeTags proj1:*-rc*',
      'IncludeLabels proj1:prod',
    ]);
    expect(config.filters.get('proj2')?.map((r) => r.name)).toEqual(['IncludeTags proj2:**']);
    expect(config.filters.get('proj1')![0].pattern.matches('team-a/x')).toBe(true);
  });

  test('without filter keys no project has rules', () => {
    expect(parseConfig(VALID).filters.size).toBe(0);
  });

  test('a bad pattern is named with its project; every problem is listed at once', () => {
    expect(
      problems({
        IncludeTags: 'proj1:v*;proj2:[v',
        ExcludeTags: 'proj1:{a}',
        ExcludeRepositories: 'proj1',
        IncludeRepositories: 'proj1:a/**;proj1:b/**',
      }),
    ).toEqual([
      'IncludeRepositories names project proj1 twice: one pattern per project; list alternatives in braces, e.g. proj1:{v*,release-*}',
      'ExcludeRepositories entry "proj1" must be harbor_project:pattern, e.g. proj1:v*',
      'IncludeTags: the pattern "[v" of project proj2 has a [ without its ] (write \\[ for the character itself)',
      'ExcludeTags: the pattern "{a}" of project proj1 has braces without a comma: {a,b} lists alternatives; write a single one bare',
    ]);
  });

  test('a rule for a project NamespaceMap does not map is refused (it would never apply)', () => {
    expect(problems({ ExcludeTags: 'proj9:*-rc*' })).toEqual([
      'ExcludeTags: project proj9 is not in NamespaceMap, so its rule would never apply: map the project or remove "proj9:*-rc*"',
    ]);
  });

  test.each([
    ['v1', 'Harbor 1.x'],
    ['registry', 'a plain registry'],
  ])('IncludeLabels with HarborAPI=%s is refused: labels cannot be read there', (api, what) => {
    expect(problems({ HarborAPI: api, IncludeLabels: 'proj1:prod;proj2:prod' })).toEqual([
      `IncludeLabels needs artifact labels, which only Harbor 2.x's API lists; with HarborAPI=${api} (${what}) they cannot be read: remove IncludeLabels, or sync from Harbor 2.x with HarborAPI=auto or v2`,
    ]);
  });

  test('ExcludeLabels is read per project like IncludeLabels, and refused where labels cannot be read', () => {
    const config = parseConfig({ ...VALID, IncludeLabels: 'proj1:prod', ExcludeLabels: 'proj1:{dev,blocked}' });
    expect(config.filters.get('proj1')?.map((r) => r.name)).toEqual([
      'IncludeLabels proj1:prod',
      'ExcludeLabels proj1:{dev,blocked}',
    ]);
    expect(problems({ HarborAPI: 'v1', ExcludeLabels: 'proj1:dev' })).toEqual([
      "ExcludeLabels needs artifact labels, which only Harbor 2.x's API lists; with HarborAPI=v1 (Harbor 1.x) they cannot be read: remove ExcludeLabels, or sync from Harbor 2.x with HarborAPI=auto or v2",
    ]);
  });

  test('NamespaceMap keeps its own messages with the shared split', () => {
    expect(problems({ NamespaceMap: 'proj1:ns1:x;proj2' })).toEqual([
      'NamespaceMap entry "proj1:ns1:x" must be harbor_project:swr_namespace',
      'NamespaceMap entry "proj2" must be harbor_project:swr_namespace',
    ]);
  });
});
