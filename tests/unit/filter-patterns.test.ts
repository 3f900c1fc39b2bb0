// Filter patterns against Harbor's meaning of them (Go's github.com/bmatcuk/doublestar v1.3.4, which Harbor's
// src/pkg/reg/util/pattern.go calls): every expected value below is what doublestar's Match returns, read from
// its source at v1.3.4 (doMatching/matchComponent). The cases are the ones where glob libraries differ:
// `a/**` and the project itself, hidden names, extglobs and negation, single alternatives, `[!...]`.
// Then the one selection decision every entry point asks, on plain rules.
import { describe, expect, test } from '@jest/globals';
import { compilePattern, MAX_PATTERN_LENGTH } from '../../src/filters/pattern.js';
import { requestRules, type FilterKey, type FilterRule } from '../../src/filters/rules.js';
import { filteredBy, LabelsUnknownError, repositoryFilteredBy } from '../../src/filters/select.js';

function matches(pattern: string, name: string): boolean {
  const compiled = compilePattern(pattern);
  if (typeof compiled === 'string') throw new Error(`${pattern} ${compiled}`);
  return compiled.matches(name);
}

describe('patterns match as doublestar v1 matches them', () => {
  test.each([
    // `*` within a segment, `**` across them
    ['*', 'v1.0', true],
    ['*', 'team-a/app', false],
    ['**', 'team-a/x/y', true],
    ['team-a/**', 'team-a/x', true],
    ['team-a/**', 'team-a/x/y', true],
    ['team-a/**', 'team-a', false], // picomatch says true here
    ['team-a/**', 'team-ab/x', false],
    ['**/app', 'app', true],
    ['**/app', 'a/b/app', true],
    ['a/**/b', 'a/b', true],
    ['a/**/b', 'a/x/y/b', true],
    ['x/*/y', 'x/a/b/y', false],
    ['a**', 'abc', true], // `**` inside a segment is a `*`
    ['a**', 'a/b', false],
    // tags
    ['*-rc*', '1.0-rc1', true],
    ['*-rc*', '1.0', false],
    ['{release-*,v*}', 'v1.2', true],
    ['{release-*,v*}', 'release-2024.1', true],
    ['{release-*,v*}', 'latest', false],
    ['{,x}y', 'y', true],
    ['{a,{b,c}}d', 'cd', true],
    ['v?', 'v1', true],
    ['v?', 'v10', false],
    ['[0-9]*', '1.0', true],
    ['[0-9]*', 'v1', false],
    ['[^v]*', 'latest', true],
    ['[^v]*', 'v1', false],
    ['a\\*', 'a*', true],
    ['a\\*', 'ab', false],
    // no hidden names in doublestar (minimatch's and picomatch's default hides them)
    ['*', '.hidden', true],
    ['**', '.a/.b', true],
    // literal in doublestar: negation, comments, extglobs, regex groups (picomatch reads `(a|b)` as a or b)
    ['!a', '!a', true],
    ['!a', 'b', false],
    ['#a', '#a', true],
    ['@(a|b)', 'a', false],
    ['@(a|b)', '@(a|b)', true],
    ['(a|b)', 'a', false],
    ['(a|b)', '(a|b)', true],
    ['*(a|b)', 'ab', false],
    ['a+', 'aa', false],
    // case matters
    ['V*', 'v1', false],
  ])('%s against %s: %p', (pattern, name, expected) => {
    expect(matches(pattern, name)).toBe(expected);
  });

  test.each([
    ['', 'is empty'],
    ['[v', 'has a [ without its ] (write \\[ for the character itself)'],
    ['{a,b', 'has a { without its } (write \\{ for the character itself)'],
    ['v\\', 'ends with a lone \\ (write \\\\ for a backslash)'],
    ['[]', 'has an empty class []'],
    // doublestar: one alternative `1..3`; minimatch: the range 1, 2, 3
    ['v{1..3}', 'has braces without a comma: {a,b} lists alternatives; write a single one bare'],
    // doublestar: the alternative `a`; minimatch: the text `{a}`
    ['{a}', 'has braces without a comma: {a,b} lists alternatives; write a single one bare'],
    // doublestar: the characters ! and a; minimatch: anything but a
    ['[!a]*', 'has [!...]: Harbor reads ! there as the character itself; write [^...] to exclude'],
    ['[[:alpha:]]', 'has a [:class:], which Harbor does not know: list the characters, e.g. [a-z]'],
    ['[-a]', 'has a class with a range missing one end, e.g. [a-] or [a-b-c]: write \\- for the character -'],
    ['[a-]', 'has a class with a range missing one end, e.g. [a-] or [a-b-c]: write \\- for the character -'],
    // doublestar: a bad pattern; minimatch: a-b, - and c
    ['[a-b-c]', 'has a class with a range missing one end, e.g. [a-] or [a-b-c]: write \\- for the character -'],
  ])('%s is refused: %s', (pattern, problem) => {
    expect(compilePattern(pattern)).toBe(problem);
  });

  test(`a pattern longer than ${MAX_PATTERN_LENGTH} characters is refused (a request's brace expansion stays bounded)`, () => {
    expect(compilePattern('x'.repeat(MAX_PATTERN_LENGTH + 1))).toBe(`is longer than ${MAX_PATTERN_LENGTH} characters`);
    expect(typeof compilePattern('x'.repeat(MAX_PATTERN_LENGTH))).toBe('object');
  });

  test('escaped brackets and braces are characters, and a class may hold an escaped -', () => {
    expect(matches('\\[x\\]', '[x]')).toBe(true);
    expect(matches('\\{a\\}', '{a}')).toBe(true);
    expect(matches('v[0-9\\-]', 'v-')).toBe(true);
    expect(matches('[a-cx-z]', 'y')).toBe(true);
    expect(matches('[\\]]', ']')).toBe(true);
  });
});

function rule(key: FilterKey, text: string, project = 'proj1'): FilterRule {
  const pattern = compilePattern(text);
  if (typeof pattern === 'string') throw new Error(pattern);
  return { key, pattern, name: `${key} ${project}:${text}` };
}

describe('is this image selected, and if not, by which rule', () => {
  const rules = [
    rule('IncludeRepositories', 'team-a/**'),
    rule('IncludeTags', '{release-*,v*}'),
    rule('ExcludeTags', '*-rc*'),
  ];

  test('an image passing every rule is selected; the first rule that fails is named as written', () => {
    expect(filteredBy(rules, { repository: 'team-a/app', tag: 'v1.2' })).toBeUndefined();
    expect(filteredBy(rules, { repository: 'team-a/app', tag: 'v1.2-rc1' })).toBe('ExcludeTags proj1:*-rc*');
    expect(filteredBy(rules, { repository: 'team-a/app', tag: 'latest' })).toBe('IncludeTags proj1:{release-*,v*}');
    expect(filteredBy(rules, { repository: 'team-b/app', tag: 'v1' })).toBe('IncludeRepositories proj1:team-a/**');
    expect(repositoryFilteredBy(rules, 'team-b/app')).toBe('IncludeRepositories proj1:team-a/**');
    expect(repositoryFilteredBy(rules, 'team-a/app')).toBeUndefined();
  });

  test('no rules select everything', () => {
    expect(filteredBy([], { repository: 'x', tag: 'anything' })).toBeUndefined();
  });

  test('a label rule wants one label that matches; unknown labels are refused, or left to the job', () => {
    const labelled = [rule('IncludeLabels', 'prod')];
    expect(filteredBy(labelled, { repository: 'app', tag: 'v1', labels: ['qa', 'prod'] })).toBeUndefined();
    expect(filteredBy(labelled, { repository: 'app', tag: 'v1', labels: [] })).toBe('IncludeLabels proj1:prod');
    expect(() => filteredBy(labelled, { repository: 'app', tag: 'v1' })).toThrow(LabelsUnknownError);
    expect(() => filteredBy(labelled, { repository: 'app', tag: 'v1' })).toThrow(
      "IncludeLabels proj1:prod needs the artifact's labels, which only Harbor 2.x's API (v2.0) lists",
    );
    expect(filteredBy(labelled, { repository: 'app', tag: 'v1' }, { labelsKnown: false })).toBeUndefined();
  });

  test('an exclude label rule leaves out an artifact with a matching label, and wins over an include one', () => {
    const excluded = [rule('ExcludeLabels', '{dev,blocked}')];
    expect(filteredBy(excluded, { repository: 'app', tag: 'v1', labels: ['qa', 'dev'] })).toBe(
      'ExcludeLabels proj1:{dev,blocked}',
    );
    expect(filteredBy(excluded, { repository: 'app', tag: 'v1', labels: ['prod'] })).toBeUndefined();
    expect(filteredBy(excluded, { repository: 'app', tag: 'v1', labels: [] })).toBeUndefined();
    const both = [rule('IncludeLabels', 'prod'), ...excluded];
    expect(filteredBy(both, { repository: 'app', tag: 'v1', labels: ['prod', 'blocked'] })).toBe(
      'ExcludeLabels proj1:{dev,blocked}',
    );
    expect(filteredBy(both, { repository: 'app', tag: 'v1', labels: ['prod'] })).toBeUndefined();
    expect(() => filteredBy(excluded, { repository: 'app', tag: 'v1' })).toThrow(
      "ExcludeLabels proj1:{dev,blocked} needs the artifact's labels, which only Harbor 2.x's API (v2.0) lists; this source cannot say them: remove the ExcludeLabels rule",
    );
    expect(filteredBy(excluded, { repository: 'app', tag: 'v1' }, { labelsKnown: false })).toBeUndefined();
  });

  test("a request's rules come on top of the configured ones and name themselves", () => {
    const narrowed = [...rules, ...requestRules({ ExcludeTags: 'v1*' })];
    expect(filteredBy(narrowed, { repository: 'team-a/app', tag: 'v1.2' })).toBe('ExcludeTags v1* (this request)');
    expect(filteredBy(narrowed, { repository: 'team-a/app', tag: 'v2.0' })).toBeUndefined();
    expect(() => requestRules({ ExcludeTags: '[v' })).toThrow(
      'filters.ExcludeTags "[v" has a [ without its ] (write \\[ for the character itself)',
    );
    expect(() => requestRules({ Tags: 'v*' } as never)).toThrow(
      'filters.Tags is not a filter: use IncludeRepositories, ExcludeRepositories, IncludeTags, ExcludeTags, IncludeLabels',
    );
  });
});
