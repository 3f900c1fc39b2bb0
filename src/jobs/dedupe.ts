// When two requests are one job: the same copy key while the first is queued or running, or finished
// moments ago; a request with new tags for a queued job adds them to it.
import type { JobSpec } from './types.js';

/** A duplicate of a job finished this recently is answered by that job rather than copied again. */
export const DUPLICATE_WINDOW_MS = 10 * 60 * 1000;

/** The spec with the new request's tags added, or undefined when it brings nothing new. */
export function mergeTags(existing: JobSpec, incoming: JobSpec): JobSpec | undefined {
  if (existing.kind !== 'image' || incoming.kind !== 'image') return undefined;
  const extra = incoming.tags.filter((t) => !existing.tags.includes(t));
  return extra.length === 0 ? undefined : { ...existing, tags: [...existing.tags, ...extra] };
}
