// How long finished jobs are kept, whatever holds them: the SQLite pruner and BullMQ's
// removeOnComplete/removeOnFail read the same two numbers (JobRetentionDays, JobRetentionCount).

export interface JobRetention {
  days: number;
  count: number;
}

export const DEFAULT_JOB_RETENTION: JobRetention = { days: 7, count: 10_000 };
