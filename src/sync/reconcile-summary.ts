// One sweep's summary over several destinations: each destination is swept on its own and the counts add up.
import type { ReconcileSummary } from './reconcile.js';

export function addSummaries(summaries: ReconcileSummary[]): ReconcileSummary {
  const total: ReconcileSummary = {
    projects: 0,
    repositories: 0,
    tags: 0,
    missing: 0,
    differing: 0,
    converted: 0,
    filtered: 0,
    queued: 0,
    deletes: 0,
    merged: 0,
    errors: 0,
    requests: { harbor: 0, destination: 0, source: 0 },
    ms: 0,
    aborted: false,
  };
  if (summaries.length === 1) return summaries[0];
  for (const s of summaries) {
    for (const key of ['projects', 'repositories', 'tags', 'missing', 'differing', 'converted'] as const)
      total[key] += s[key];
    for (const key of ['filtered', 'queued', 'deletes', 'merged', 'errors', 'ms'] as const) total[key] += s[key];
    total.requests.harbor += s.requests.harbor;
    total.requests.destination += s.requests.destination;
    total.requests.source += s.requests.source;
    total.aborted ||= s.aborted;
  }
  return total;
}
