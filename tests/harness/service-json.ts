// Owns the type of the service's JSON answers as the tests read them.

/**
 * A JSON answer of the service: the fields of every shape it sends, each optional, since which shape came
 * back is what a test checks. `jobs` differs by route (job ids from the intake routes, jobs from
 * /api/v1/jobs, counts by state from /healthz), so a test says which it expects.
 */
export interface ServiceJson {
  jobId?: string;
  state?: string;
  status?: string;
  accepted?: number;
  pending?: number;
  queued?: string[];
  merged?: string[];
  ignored?: string[];
  jobs?: unknown;
  error?: { code: string; message: string };
}
