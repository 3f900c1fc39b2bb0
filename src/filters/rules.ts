// Owns the replication filter rules: the six keys, one rule per key and project (from app.conf, or from one
// sync request, which may only narrow), each named as the user wrote it so that a skip can say which rule
// made it: `ExcludeTags proj1:*-rc*`.
import { compilePattern, type FilterPattern } from './pattern.js';

/** In the order they are asked: a repository left out needs no tag listing, labels come with the artifact. */
export const FILTER_KEYS = [
  'IncludeRepositories',
  'ExcludeRepositories',
  'IncludeTags',
  'ExcludeTags',
  'IncludeLabels',
  'ExcludeLabels',
] as const;
export type FilterKey = (typeof FILTER_KEYS)[number];

/** Rules that need the artifact's labels, which only Harbor 2.x's API lists. */
export function isLabelKey(key: FilterKey): boolean {
  return key === 'IncludeLabels' || key === 'ExcludeLabels';
}

export interface FilterRule {
  key: FilterKey;
  pattern: FilterPattern;
  /** How a skip names it: `ExcludeTags proj1:*-rc*` (app.conf) or `ExcludeTags *-rc* (this request)`. */
  name: string;
}

/** Rules as a request (or a job's record of it) spells them: key -> pattern text. */
export type FilterTexts = Partial<Record<FilterKey, string>>;

/** The rules of app.conf, by Harbor project. A project without rules copies everything. */
export type ProjectFilters = ReadonlyMap<string, readonly FilterRule[]>;

export function isFilterKey(key: string): key is FilterKey {
  return (FILTER_KEYS as readonly string[]).includes(key);
}

/** One app.conf rule; a problem (pushed) names the key, the project and the pattern. */
export function configuredRule(
  key: FilterKey,
  project: string,
  text: string,
  problems: string[],
): FilterRule | undefined {
  const pattern = compilePattern(text);
  if (typeof pattern === 'string') {
    problems.push(`${key}: the pattern "${text}" of project ${project} ${pattern}`);
    return undefined;
  }
  return { key, pattern, name: `${key} ${project}:${text}` };
}

/**
 * A request's rules, which apply on top of app.conf's (an image must pass both, so they can only narrow);
 * throws an Error naming the field when one is not a pattern.
 */
export function requestRules(texts: FilterTexts | undefined, field = 'filters'): FilterRule[] {
  return Object.entries(texts ?? {}).map(([key, text]) => {
    if (!isFilterKey(key)) throw new Error(`${field}.${key} is not a filter: use ${FILTER_KEYS.join(', ')}`);
    if (typeof text !== 'string') throw new Error(`${field}.${key} must be one pattern, as a string`);
    const pattern = compilePattern(text);
    if (typeof pattern === 'string') throw new Error(`${field}.${key} "${text.slice(0, 300)}" ${pattern}`);
    return { key, pattern, name: `${key} ${text} (this request)` };
  });
}

/** The rules an image of `project` must pass: app.conf's and, when the sync was asked with some, the request's. */
export function rulesFor(configured: ProjectFilters | undefined, project: string, request?: FilterTexts): FilterRule[] {
  return [...(configured?.get(project) ?? []), ...requestRules(request)];
}

/** The first rule that needs artifact labels (which only Harbor 2.x's API gives), for the messages refusing it. */
export function labelRule(rules: Iterable<readonly FilterRule[]>): FilterRule | undefined {
  for (const list of rules) {
    const found = list.find((rule) => isLabelKey(rule.key));
    if (found) return found;
  }
  return undefined;
}
