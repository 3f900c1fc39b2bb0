// NamespaceMap: which Harbor project goes to which SWR namespace, in the old tool's `project:namespace;...` form.
import { harborProjectProblem } from '../harbor/names.js';
import { swrNamespaceProblem } from '../swr/names.js';

/** `harbor_project1:swr_ns1;harbor_project2:swr_ns2`, as the old tool took it. */
export function parseNamespaceMap(text: string | undefined, problems: string[]): Map<string, string> {
  const map = new Map<string, string>();
  if (!text) {
    problems.push(
      'NamespaceMap is missing: write harbor_project:swr_namespace pairs separated by ";", e.g. library:mycompany;team-a:team-a',
    );
    return map;
  }
  for (const entry of text
    .split(';')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const parts = entry.split(':').map((p) => p.trim());
    if (parts.length !== 2 || !parts[0] || !parts[1]) {
      problems.push(`NamespaceMap entry "${entry}" must be harbor_project:swr_namespace`);
      continue;
    }
    const [project, namespace] = parts as [string, string];
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
