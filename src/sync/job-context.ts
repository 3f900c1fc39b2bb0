// Owns a job's own copy of a sync context: every project log line tagged with the job's id, and the queue's
// signal that stops the job joined to the context's own.
import { jobProjectLogs } from '../logging/logs.js';
import type { SyncContext } from './context.js';

export function forJob(ctx: SyncContext, jobId: string, signal: AbortSignal | undefined): SyncContext {
  const stop = signal && ctx.signal ? AbortSignal.any([ctx.signal, signal]) : (signal ?? ctx.signal);
  return { ...ctx, logs: (project) => jobProjectLogs(ctx.logs(project), jobId), ...(stop ? { signal: stop } : {}) };
}
