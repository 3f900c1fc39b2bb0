// The service's use cases, between the HTTP layer and the jobs: accept pushes, check and queue project
// syncs, run jobs, and report on them. Knows nothing of Express.
import type winston from 'winston';
import type { Config } from '../config/config.js';
import type { CopyEngine } from '../copy/index.js';
import { rulesFor } from '../filters/rules.js';
import { filteredBy, repositoryFilteredBy } from '../filters/select.js';
import type { PushEvent } from '../harbor/webhook.js';
import { jobProjectLogs, type Logs } from '../logging/logs.js';
import type { Redactor } from '../logging/redact.js';
import type { JobQueue, JobView } from '../jobs/queue.js';
import type { Job, JobFilter, JobOutcome, JobProgress, JobState, ProjectJobSpec } from '../jobs/types.js';
import { imageJobKey } from '../sync/job-keys.js';
import { syncImage } from '../sync/sync-image.js';
import { syncProject } from '../sync/sync-project.js';
import { reconcile, type ReconcileSummary } from '../sync/reconcile.js';
import type { SyncContext } from '../sync/context.js';
import { deleteWrittenTags } from '../sync/delete-tags.js';
import { acceptDeletes, type DeletesAccepted } from './accept-deletes.js';
import { buildContext, configuredCredentials, type ClientHooks, type ContextCredentials } from './contexts.js';

export interface AcceptSummary {
  queued: string[];
  merged: string[];
  pending: number;
  ignored: string[];
}

export type { JobView };

export class SyncService {
  private readonly defaultContext: SyncContext & { close(force?: boolean): Promise<void> };
  /** Credentials that came with a manual call, by job id: memory only, never in the store. */
  private readonly requestContexts = new Map<string, SyncContext & { close(force?: boolean): Promise<void> }>();
  /** Releases of the secrets a manual call brought, by job id, for when the job ends. */
  private readonly heldSecrets = new Map<string, () => void>();
  /** Digests of OCI images' Docker conversions, learnt by reconcile sweeps (content-addressed: never stale). */
  private readonly convertedDigests = new Map<string, string | null>();

  constructor(
    readonly config: Config,
    readonly queue: JobQueue,
    private readonly engine: CopyEngine,
    private readonly logs: Logs,
    private readonly log: winston.Logger,
    /** Secrets that arrive with requests are added here so that no log or answer shows them. */
    readonly redactor: Redactor,
    /** Observer and shared pacing for every registry client the service makes. */
    private readonly hooks: ClientHooks = {},
  ) {
    // Contexts made later (manual calls) reuse what the default one learnt of Harbor's API.
    this.hooks = { log, ...hooks, known: () => this.defaultContext?.harbor.known };
    this.defaultContext = buildContext(
      config,
      engine,
      logs,
      configuredCredentials(config),
      config.imageOverwrite,
      this.hooks,
    );
  }

  get destinationHost(): string {
    return this.config.swr.registry;
  }

  get harbor() {
    return this.defaultContext.harbor;
  }

  /** Records pushes durably (throws if the store cannot be written, so the caller can answer 503). */
  async acceptPushes(pushes: PushEvent[]): Promise<AcceptSummary> {
    const summary: AcceptSummary = { queued: [], merged: [], pending: 0, ignored: [] };
    for (const push of pushes) {
      const namespace = this.config.namespaceMap.get(push.project);
      if (!namespace) {
        summary.ignored.push(`project ${push.project} is not in NamespaceMap`);
        this.log.info(
          `push to ${push.project}/${push.repository}@${push.digest} ignored: project ${push.project} is not in NamespaceMap`,
        );
        continue;
      }
      // Labels are not in a webhook: label rules are decided by the job, which asks Harbor for the artifact.
      const rules = rulesFor(this.config.filters, push.project);
      const rule = push.tag
        ? filteredBy(rules, { repository: push.repository, tag: push.tag }, { labelsKnown: false })
        : repositoryFilteredBy(rules, push.repository);
      if (rule) {
        const pushed = `${push.project}/${push.repository}${push.tag ? `:${push.tag}` : ''} (${push.digest})`;
        summary.ignored.push(`${pushed} skipped: ${rule}`);
        this.logs.project(push.project).running.info(`push of ${pushed} not synced: skipped: ${rule}`);
        continue;
      }
      if (!push.tag) {
        await this.queue.addPendingPush({
          project: push.project,
          repository: push.repository,
          digest: push.digest,
          namespace,
        });
        summary.pending++;
        continue;
      }
      const spec = {
        kind: 'image' as const,
        project: push.project,
        repository: push.repository,
        digest: push.digest,
        tags: [push.tag],
        namespace,
      };
      const { job, merged } = await this.queue.enqueue(spec, imageJobKey(this.destinationHost, spec));
      (merged ? summary.merged : summary.queued).push(job.id);
      this.logs
        .project(push.project)
        .running.info(
          `push of ${push.project}/${push.repository}:${push.tag} (${push.digest}) ${merged ? 'joined this job' : 'queued'}`,
          { jobId: job.id },
        );
    }
    return summary;
  }

  /** Records delete jobs for Harbor's delete events (SyncDeletes=true), durably. */
  acceptDeletes(deletes: PushEvent[]): Promise<DeletesAccepted> {
    if (deletes.length === 0) return Promise.resolve({ queued: [], ignored: [] });
    const { config, queue, logs, log, destinationHost } = this;
    return acceptDeletes({ config, queue, logs, log, destinationHost, written: this.hooks.written }, deletes);
  }

  /** One reconcile sweep over every mapped project with the configured credentials (the caller keeps it single). */
  reconcile(signal?: AbortSignal): Promise<ReconcileSummary> {
    return reconcile(this.defaultContext, this.queue, this.config.namespaceMap, {
      destination: this.destinationHost,
      log: this.log,
      manifestFormat: this.config.engine.manifestFormat,
      convertedDigests: this.convertedDigests,
      signal,
      deletes: this.config.deletes.inSweep,
    });
  }

  /** `releaseSecrets` is called when the job ends: the request's secrets need hiding no longer. */
  async queueProject(
    spec: ProjectJobSpec,
    credentials?: ContextCredentials,
    releaseSecrets?: () => void,
  ): Promise<Job> {
    const { job } = await this.queue.enqueue(spec, undefined);
    if (releaseSecrets) this.heldSecrets.set(job.id, releaseSecrets);
    if (credentials) {
      this.requestContexts.set(
        job.id,
        buildContext(
          this.config,
          this.engine,
          this.logs,
          credentials,
          spec.overwrite ?? this.config.imageOverwrite,
          this.hooks,
        ),
      );
    }
    this.logs
      .project(spec.project)
      .running.info(`project sync of ${spec.project} into ${spec.namespace} queued`, { jobId: job.id });
    return job;
  }

  job(id: string): Promise<JobView | undefined> {
    return this.queue.get(id);
  }

  counts(): Promise<Record<JobState, number>> {
    return this.queue.counts();
  }

  jobs(filter: JobFilter): Promise<JobView[]> {
    return this.queue.list(filter);
  }

  /** The job runner's handler. */
  readonly runJob = async (job: Job, progress: (p: JobProgress) => void, signal?: AbortSignal): Promise<JobOutcome> => {
    const onImage = {
      onImage: (imagesDone: number, imagesTotal: number, bytesUploaded: number) =>
        progress({ imagesDone, imagesTotal, bytesUploaded }),
    };
    if (job.spec.kind === 'image') return syncImage(forJob(this.defaultContext, job.id, signal), job.spec, onImage);
    if (job.spec.kind === 'delete') return deleteWrittenTags(forJob(this.defaultContext, job.id, signal), job.spec);
    const ctx = this.requestContexts.get(job.id);
    if (!ctx && job.spec.requestCredentials) {
      // The request's credentials were only ever in memory and the service has restarted since.
      this.log.warn(
        'asked with credentials in its request, which are not kept across restarts; continuing with the configured credentials',
        { jobId: job.id },
      );
    }
    return { results: await syncProject(forJob(ctx ?? this.defaultContext, job.id, signal), job.spec, onImage) };
  };

  /** A job is final: drop the credentials its request brought. */
  readonly settled = (id: string): void => {
    this.heldSecrets.get(id)?.();
    this.heldSecrets.delete(id);
    const own = this.requestContexts.get(id);
    if (own) {
      this.requestContexts.delete(id);
      void own.close();
    }
  };

  /** With `force`, transfers still in flight are cut off instead of awaited (they resume at the next start). */
  async close(force = false): Promise<void> {
    await Promise.all([
      this.defaultContext.close(force),
      ...[...this.requestContexts.values()].map((c) => c.close(force)),
    ]);
  }
}

/** The job's own copy of the context: every project log line tagged with its id, and the queue's signal that stops it. */
function forJob(ctx: SyncContext, jobId: string, signal: AbortSignal | undefined): SyncContext {
  const stop = signal && ctx.signal ? AbortSignal.any([ctx.signal, signal]) : (signal ?? ctx.signal);
  return { ...ctx, logs: (project) => jobProjectLogs(ctx.logs(project), jobId), ...(stop ? { signal: stop } : {}) };
}
