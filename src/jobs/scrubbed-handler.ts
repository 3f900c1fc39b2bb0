// Keeps secrets out of what is recorded about a job: its error, its images' reasons and notes, the reason it
// was skipped. Wraps the handler, so both queue backends store (and log) only scrubbed text, and the scrub
// happens while the secrets a request brought are still held (they are released once the job is recorded).
import type { JobHandler } from './types.js';

export function scrubbedJobs(handler: JobHandler, scrub: (text: string) => string): JobHandler {
  return async (job, progress, signal) => {
    try {
      const outcome = await handler(job, progress, signal);
      return {
        ...outcome,
        ...(outcome.skipped === undefined ? {} : { skipped: scrub(outcome.skipped) }),
        results: outcome.results.map((r) => ({
          ...r,
          ...(r.reason === undefined ? {} : { reason: scrub(r.reason) }),
          ...(r.notes === undefined ? {} : { notes: r.notes.map(scrub) }),
        })),
      };
    } catch (error) {
      // In place: the error's class and marks (`permanent`) decide whether the job is retried.
      if (error instanceof Error) error.message = scrub(error.message);
      throw error;
    }
  };
}
