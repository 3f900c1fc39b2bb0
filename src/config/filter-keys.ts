// The filter keys of app.conf (`IncludeTags=proj1:{release-*,v*};proj2:**` and the like): each read as one
// pattern per mapped project, split as NamespaceMap is, then checked against NamespaceMap and the source API.
import { configuredRule, FILTER_KEYS, isLabelKey, type FilterKey, type FilterRule } from '../filters/rules.js';
import { projectEntries } from './namespace-map.js';

/** A key's parser: project -> its rule; every problem names the key, the entry or pattern, and the project. */
export function projectRules(key: FilterKey) {
  return (text: string | undefined, _name: string, problems: string[]): Map<string, FilterRule> => {
    const rules = new Map<string, FilterRule>();
    for (const { entry, project, value } of projectEntries(text ?? '')) {
      if (!project || !value) {
        problems.push(`${key} entry "${entry}" must be harbor_project:pattern, e.g. ${project || 'library'}:v*`);
        continue;
      }
      if (rules.has(project)) {
        problems.push(
          `${key} names project ${project} twice: one pattern per project; list alternatives in braces, e.g. ${project}:{v*,release-*}`,
        );
        continue;
      }
      const rule = configuredRule(key, project, value, problems);
      if (rule) rules.set(project, rule);
    }
    return rules;
  };
}

/**
 * Every project's rules, in FILTER_KEYS order. A rule for a project NamespaceMap does not map would never apply
 * (a typo, most likely); a label rule cannot work where the source API lists no labels.
 */
export function projectFilters(
  byKey: Record<FilterKey, Map<string, FilterRule>>,
  namespaceMap: ReadonlyMap<string, string>,
  harborApi: 'auto' | 'v2' | 'v1' | 'registry',
  problems: string[],
): Map<string, FilterRule[]> {
  const filters = new Map<string, FilterRule[]>();
  for (const key of FILTER_KEYS) {
    for (const [project, rule] of byKey[key]) {
      if (namespaceMap.size > 0 && !namespaceMap.has(project)) {
        problems.push(
          `${key}: project ${project} is not in NamespaceMap, so its rule would never apply: map the project or remove "${rule.name.slice(key.length + 1)}"`,
        );
        continue;
      }
      if (isLabelKey(key) && (harborApi === 'v1' || harborApi === 'registry')) {
        const problem = `${key} needs artifact labels, which only Harbor 2.x's API lists; with HarborAPI=${harborApi} (${harborApi === 'v1' ? 'Harbor 1.x' : 'a plain registry'}) they cannot be read: remove ${key}, or sync from Harbor 2.x with HarborAPI=auto or v2`;
        if (!problems.includes(problem)) problems.push(problem);
        continue;
      }
      filters.set(project, [...(filters.get(project) ?? []), rule]);
    }
  }
  return filters;
}
