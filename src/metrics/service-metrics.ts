// Owns the service's Prometheus metrics: their names, labels and help, in a Registry of the service's own
// (several services in one test process must not share counters), with prom-client's default process metrics.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const PREFIX = 'swr_harbor_sync_';

/** Image copies take from a fraction of a second (already there) to hours (a multi-GB layer over a slow link). */
const COPY_SECONDS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600];

export type JobCounts = () => Promise<Record<string, number>>;

export class ServiceMetrics {
  readonly registry = new Registry();

  readonly webhookEvents = new Counter({
    name: `${PREFIX}webhook_events_total`,
    help: 'Notifications received on /service/notifications, by payload kind (default, cloudevents, distribution, unknown) and outcome (accepted, ignored, rejected, unauthorized, store_unavailable, error).',
    labelNames: ['kind', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly images = new Counter({
    name: `${PREFIX}images_total`,
    help: 'Image copies by outcome: synced (written to the destination), skipped (already there, or a tag not overwritten), failed (one attempt of a job).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly projectImages = new Counter({
    name: `${PREFIX}project_images_total`,
    help: 'Images of copy jobs by Harbor project and outcome (synced, skipped, failed), counted as each job attempt ends; images_total counts the same copies without the project.',
    labelNames: ['project', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly tagsDeleted = new Counter({
    name: `${PREFIX}tags_deleted_total`,
    help: "Tags the service wrote and delete jobs handled (SyncDeletes, ReconcileDeletes), by outcome: deleted at the destination, kept (Harbor has it again, someone else wrote it since, or a manifest DELETE would take tags not the service's), failed (one attempt of a job).",
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly imagesConverted = new Counter({
    name: `${PREFIX}images_converted_total`,
    help: 'Images synced in Docker formats instead of their OCI ones (their destination digest differs from the source).',
    registers: [this.registry],
  });

  readonly bytesCopied = new Counter({
    name: `${PREFIX}copied_bytes_total`,
    help: 'Blob bytes uploaded to destinations (mounted and skipped blobs cross no bytes).',
    registers: [this.registry],
  });

  readonly blobs = new Counter({
    name: `${PREFIX}blobs_total`,
    help: 'Blobs by what it took to have them at the destination: uploaded, mounted from another repository, or skipped (already there).',
    labelNames: ['action'] as const,
    registers: [this.registry],
  });

  readonly registryRequests = new Counter({
    name: `${PREFIX}registry_requests_total`,
    help: 'Requests sent to registries, by registry host, method and HTTP status (network_error when no answer came); retried attempts count each.',
    labelNames: ['registry', 'method', 'status'] as const,
    registers: [this.registry],
  });

  readonly registryRetries = new Counter({
    name: `${PREFIX}registry_retries_total`,
    help: 'Requests sent again, by registry host and reason (the HTTP status that caused it, or network).',
    labelNames: ['registry', 'reason'] as const,
    registers: [this.registry],
  });

  readonly imageCopySeconds = new Histogram({
    name: `${PREFIX}image_copy_duration_seconds`,
    help: 'Time to copy one image (or find it already there), by outcome.',
    labelNames: ['outcome'] as const,
    buckets: COPY_SECONDS,
    registers: [this.registry],
  });

  readonly destinationJobs = new Counter({
    name: `${PREFIX}destination_jobs_total`,
    help: 'With several destinations: job attempts by destination registry host and outcome (succeeded, skipped, failed), so a region that is down shows apart from the others.',
    labelNames: ['destination', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly jobSeconds = new Histogram({
    name: `${PREFIX}job_duration_seconds`,
    help: 'Time one attempt of a job took, by job kind (image, project) and outcome (succeeded, skipped, failed).',
    labelNames: ['kind', 'outcome'] as const,
    buckets: COPY_SECONDS,
    registers: [this.registry],
  });

  constructor(jobCounts: JobCounts) {
    // Read from the store at scrape time, so that the numbers are the store's and not a tally that can drift.
    // An unreadable store keeps the last values; /readyz says what is wrong.
    const counts = async (): Promise<Record<string, number> | undefined> => {
      try {
        return await jobCounts();
      } catch {
        return undefined;
      }
    };
    new Gauge({
      name: `${PREFIX}jobs`,
      help: 'Jobs in the job store by state.',
      labelNames: ['state'] as const,
      registers: [this.registry],
      async collect() {
        for (const [state, n] of Object.entries((await counts()) ?? {})) this.set({ state }, n);
      },
    });
    new Gauge({
      name: `${PREFIX}queue_depth`,
      help: 'Jobs waiting to run (queued, including those waiting for a retry).',
      registers: [this.registry],
      async collect() {
        const queued = (await counts())?.queued;
        if (queued !== undefined) this.set(queued);
      },
    });

    // Known label values start at 0, so that rate() and alerts see a series before the first event.
    for (const outcome of ['synced', 'skipped', 'failed']) this.images.inc({ outcome }, 0);
    for (const action of ['uploaded', 'mounted', 'skipped']) this.blobs.inc({ action }, 0);
    for (const outcome of ['deleted', 'kept', 'failed']) this.tagsDeleted.inc({ outcome }, 0);

    collectDefaultMetrics({ register: this.registry });
  }
}
