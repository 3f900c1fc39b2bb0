// A reconcile sweep's summary: what it counts, its log line, and the sum over several destinations (each
// destination is swept on its own and the counts add up).

export interface ReconcileSummary {
  projects: number;
  repositories: number;
  /** Tags Harbor has in the mapped projects. */
  tags: number;
  /** Tags absent at the destination. */
  missing: number;
  /** Tags present at the destination under another digest (not a conversion of the source). */
  differing: number;
  /** Tags present under the digest of the source's Docker conversion: in step. */
  converted: number;
  /** Repositories and tags the project's filter rules leave out: not compared, not counted in `tags`. */
  filtered: number;
  /** New jobs made; `merged` counts requests that joined a job already queued or just done. */
  queued: number;
  merged: number;
  /** Delete jobs made (ReconcileDeletes=true) for tags the service wrote that Harbor no longer has. */
  deletes: number;
  /** Projects or repositories that could not be compared (Harbor or destination failure); logged each. */
  errors: number;
  /**
   * Requests the sweep sent: Harbor API calls (pages not counted), destination listings (SWR management pages
   * included) and heads, source manifest reads.
   */
  requests: { harbor: number; destination: number; source: number };
  ms: number;
  aborted: boolean;
}

export function emptySummary(): ReconcileSummary {
  return {
    projects: 0,
    repositories: 0,
    tags: 0,
    missing: 0,
    differing: 0,
    converted: 0,
    filtered: 0,
    queued: 0,
    merged: 0,
    deletes: 0,
    errors: 0,
    requests: { harbor: 0, destination: 0, source: 0 },
    ms: 0,
    aborted: false,
  };
}

/** The sweep's one line in the service log. */
export function summaryLine(
  summary: ReconcileSummary,
  options: { specDestination?: string; deletes?: boolean; overwrite: boolean },
): string {
  return `reconcile${options.specDestination ? ` of ${options.specDestination}` : ''}${summary.aborted ? ' (stopped by shutdown)' : ''}: ${summary.projects} project(s), ${summary.repositories} repositories, ${summary.tags} tags: ${summary.missing} missing, ${summary.differing} differing${options.overwrite ? '' : ' (not queued: ImageOverwrite=false)'}, ${summary.converted} converted in step; ${summary.queued} job(s) queued${options.deletes ? `, ${summary.deletes} delete job(s)` : ''}, ${summary.merged} joined existing; ${summary.errors} error(s); ${summary.requests.harbor} Harbor, ${summary.requests.destination} destination, ${summary.requests.source} source request(s); ${summary.ms} ms`;
}

/** One sweep's summary over several destinations. */
export function addSummaries(summaries: ReconcileSummary[]): ReconcileSummary {
  const total = emptySummary();
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
