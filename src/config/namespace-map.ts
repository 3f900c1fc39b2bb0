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

/**
 * Where a project goes: a namespace at the default destination (`ns1`), or `where/namespace` with `where` another
 * region of the default account (`cn-south-1/ns1`) or a destination declared in Destinations (`dr/ns1`). A
 * namespace holds neither "/" nor ":", every SWR region holds a "-" and no destination name does, so each form
 * reads one way only.
 */
export interface NamespaceTarget {
  /** As written, trimmed: what a problem quotes. */
  text: string;
  namespace: string;
  /** A region or a destination name; absent for the default destination. */
  where?: string;
}

/** One target of an entry; undefined (the entry's problem then pushed by the caller) when it has no valid form. */
function namespaceTarget(text: string): NamespaceTarget | undefined {
  const elsewhere = /^([^:/]+)\/([^:/]+)$/.exec(text);
  if (elsewhere) return { text, where: elsewhere[1].trim(), namespace: elsewhere[2].trim() };
  return /^[^:/]+$/.test(text) ? { text, namespace: text } : undefined;
}

/**
 * `harbor_project1:swr_ns1;harbor_project2:swr_ns2`, as the old tool took it, each namespace possibly followed
 * by more destinations: `proj1:ns1,cn-south-1/ns1-dr,dr/ns1`. Names of regions and destinations are checked
 * where the destinations are read (destinations.ts).
 */
export function parseNamespaceMap(text: string | undefined, problems: string[]): Map<string, NamespaceTarget[]> {
  const map = new Map<string, NamespaceTarget[]>();
  if (!text) {
    problems.push(
      'NamespaceMap is missing: write harbor_project:swr_namespace pairs separated by ";", e.g. library:mycompany;team-a:team-a',
    );
    return map;
  }
  for (const { entry, project, value } of projectEntries(text)) {
    const targets = value ? value.split(',').map((t) => namespaceTarget(t.trim())) : [];
    if (!project || targets.length === 0 || targets.some((t) => !t)) {
      problems.push(`NamespaceMap entry "${entry}" must be harbor_project:swr_namespace`);
      continue;
    }
    const projectProblem = harborProjectProblem(project);
    if (projectProblem) problems.push(`NamespaceMap: Harbor project "${project}" ${projectProblem}`);
    for (const { namespace } of targets as NamespaceTarget[]) {
      const namespaceProblem = swrNamespaceProblem(namespace);
      if (namespaceProblem)
        problems.push(
          `NamespaceMap: SWR namespace "${namespace}" (for project ${project}) ${namespaceProblem}; map the project to a name SWR accepts`,
        );
    }
    if (map.has(project)) problems.push(`NamespaceMap names project "${project}" twice`);
    map.set(project, targets as NamespaceTarget[]);
  }
  if (map.size === 0 && problems.length === 0) problems.push('NamespaceMap has no entries');
  return map;
}
