// NamespaceMap: which Harbor project goes to which SWR namespace, in the old tool's `project:namespace;...` form,
// and the split every per-project key shares (`project:value` entries separated by ";").
import { harborProjectProblem } from '../harbor/names.js';
import { swrNamespaceProblem } from '../swr/names.js';

export interface ProjectEntry {
  /** As written, trimmed. */
  entry: string;
  project: string;
  /** Everything after the first ":" (a pattern may hold more of them). */
  value: string;
}

/** `a:x;b:y` -> its entries; empty entries are skipped, and one without a ":" has an empty value. */
export function projectEntries(text: string): ProjectEntry[] {
  return text
    .split(';')
    .map((e) => e.trim())
    .filter(Boolean)
    .map((entry) => {
      const colon = entry.indexOf(':');
      if (colon < 0) return { entry, project: entry, value: '' };
      return { entry, project: entry.slice(0, colon).trim(), value: entry.slice(colon + 1).trim() };
    });
}

/** `harbor_project1:swr_ns1;harbor_project2:swr_ns2`, as the old tool took it. */
export function parseNamespaceMap(text: string | undefined, problems: string[]): Map<string, string> {
  const map = new Map<string, string>();
  if (!text) {
    problems.push(
      'NamespaceMap is missing: write harbor_project:swr_namespace pairs separated by ";", e.g. library:mycompany;team-a:team-a',
    );
    return map;
  }
  for (const { entry, project, value: namespace } of projectEntries(text)) {
    if (!project || !namespace || namespace.includes(':')) {
      problems.push(`NamespaceMap entry "${entry}" must be harbor_project:swr_namespace`);
      continue;
    }
    const projectProblem = harborProjectProblem(project);
    if (projectProblem) problems.push(`NamespaceMap: Harbor project "${project}" ${projectProblem}`);
    const namespaceProblem = swrNamespaceProblem(namespace);
    if (namespaceProblem)
      problems.push(
        `NamespaceMap: SWR namespace "${namespace}" (for project ${project}) ${namespaceProblem}; map the project to a name SWR accepts`,
      );
    if (map.has(project)) problems.push(`NamespaceMap names project "${project}" twice`);
    map.set(project, namespace);
  }
  if (map.size === 0 && problems.length === 0) problems.push('NamespaceMap has no entries');
  return map;
}
