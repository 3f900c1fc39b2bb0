// The service's use cases, between the HTTP layer and the jobs: accept pushes, check and queue project
// syncs, run jobs, and report on them. Knows nothing of Express.
import type winston from 'winston';
import type { Config } from '../config/config.js';
import type { CopyEngine } from '../copy/index.js';
import { rulesFor } from '../filters/rules.js';
import { filteredBy, repositoryFilteredBy } from '../filters/select.js';
import type { PushEvent } from '../harbor/webhook.js';
import type { Logs } from '../logging/logs.js';
import type { Redactor } from '../logging/redact.js';
import type { RequestPacer } from '../oci/index.js';
import type { JobQueue, JobView } from '../jobs/queue.js';
import type { Job, JobFilter, JobOutcome, JobProgress, JobState, ProjectJobSpec } from '../jobs/types.js';
import { aimedAt, imageJobKey, type JobTarget } from '../sync/job-keys.js';
import { syncImage } from '../sync/sync-image.js';
import { syncProject } from '../sync/sync-project.js';
import { reconcile, type ReconcileSummary } from '../sync/reconcile.js';
import { addSummaries } from '../sync/reconcile-summary.js';
import type { SyncContext } from '../sync/context.js';
import { forJob } from '../sync/job-context.js';
import { deleteWrittenTags } from '../sync/delete-tags.js';
import { acceptDeletes, type DeletesAccepted } from './accept-deletes.js';
import {
  buildContext,
  configuredCredentials,
  withDestination,
  type ClientHooks,
  type ContextCredentials,
} from './contexts.js';

type OwnContext = SyncContext & { close(force?: boolean): Promise<void> };

export interface AcceptSummary {
  queued: string[];
  merged: string[];
  pending: number;
  ignored: string[];
}

export type { JobView };

export class SyncService {
  private readonly defaultContext: OwnContext;
  /** Each destination's context by registry host (the default's included): its own clients, pacing, namespaces. */
  private readonly destinationContexts = new Map<string, OwnContext>();
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
    this.destinationContexts.set(this.destinationHost, this.defaultContext);
    for (const destination of config.destinations.slice(1))
      this.destinationContexts.set(
        destination.host,
        withDestination(this.defaultContext, config, logs, destination, this.hooks),
      );
  }

  /** The pacing the service's clients share for `registry` (the default destination's rate), if shared. */
  pacerFor = (registry: string): RequestPacer | undefined =>
    this.hooks.pacer?.(registry, this.config.engine.requestsPerSecond);

  get destinationHost(): string {
    return this.config.swr.registry;
  }

  /** Several destinations: then every job names its own, and logs say which. */
  get severalDestinations(): boolean {
    return this.config.destinations.length > 1;
  }

  /** Where a mapped project is written, one job per target; `namespace` stands in for an unmapped project. */
  targetsOf(project: string, namespace?: string): JobTarget[] {
    const named = this.severalDestinations;
    const targets = this.config.targets.get(project) ?? [];
    if (targets.length === 0 && namespace) return [{ destination: this.destinationHost, namespace, named }];
    return targets.map((t) => ({ ...t, named }));
  }

  /** Where a project sync asked for goes: the namespace the request names, at the default destination; else every target. */
  syncTargets(project: string, namespace: string | undefined): JobTarget[] {
    if (namespace === undefined) return this.targetsOf(project);
    return [{ destination: this.destinationHost, namespace, named: this.severalDestinations }];
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
      // One job per destination: a region that is down holds back only its own.
      for (const target of this.targetsOf(push.project)) {
        const spec = aimedAt(
          {
            kind: 'image' as const,
            project: push.project,
            repository: push.repository,
            digest: push.digest,
            tags: [push.tag],
            namespace,
          },
          target,
        );
        const { job, merged } = await this.queue.enqueue(spec, imageJobKey(target.destination, spec));
        (merged ? summary.merged : summary.queued).push(job.id);
        const where = target.named ? ` for ${target.destination}/${target.namespace}` : '';
        this.logs
          .project(push.project)
          .running.info(
            `push of ${push.project}/${push.repository}:${push.tag} (${push.digest})${where} ${merged ? 'joined this job' : 'queued'}`,
            { jobId: job.id },
          );
      }
    }
    return summary;
  }

  /** Records delete jobs for Harbor's delete events (SyncDeletes=true), durably. */
  acceptDeletes(deletes: PushEvent[]): Promise<DeletesAccepted> {
    if (deletes.length === 0) return Promise.resolve({ queued: [], ignored: [] });
    const { config, queue, logs, log } = this;
    const targetsOf = (project: string) => this.targetsOf(project);
    return acceptDeletes({ config, queue, logs, log, targetsOf, written: this.hooks.written }, deletes);
  }

  /** One reconcile sweep over every mapped project with the configured credentials (the caller keeps it single). */
  async reconcile(signal?: AbortSignal): Promise<ReconcileSummary> {
    const summaries: ReconcileSummary[] = [];
    // Destination after destination: each compares its own namespaces; one that fails counts its errors only.
    for (const [host, ctx] of this.destinationContexts) {
      const namespaces = new Map(
        [...this.config.targets].flatMap(([project, targets]) =>
          targets.filter((t) => t.destination === host).map((t) => [project, t.namespace] as const),
        ),
      );
      if (namespaces.size === 0 && this.severalDestinations) continue;
      summaries.push(
        await reconcile(ctx, this.queue, this.severalDestinations ? namespaces : this.config.namespaceMap, {
          destination: host,
          specDestination: this.severalDestinations ? host : undefined,
          log: this.log,
          manifestFormat: this.config.engine.manifestFormat,
          convertedDigests: this.convertedDigests,
          signal,
          deletes: this.config.deletes.inSweep,
        }),
      );
    }
    return addSummaries(summaries);
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
    const into = spec.destination ? `${spec.destination}/${spec.namespace}` : spec.namespace;
    this.logs
      .project(spec.project)
      .running.info(`project sync of ${spec.project} into ${into} queued`, { jobId: job.id });
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
    const destination = this.destinationContexts.get(job.spec.destination ?? this.destinationHost);
    if (!destination) throw unknownDestination(job.spec.destination!, [...this.destinationContexts.keys()]);
    if (job.spec.kind === 'image')
      return syncImage(forJob(destination, job.id, signal), job.spec, onImage, job.results);
    if (job.spec.kind === 'delete') return deleteWrittenTags(forJob(destination, job.id, signal), job.spec);
    const ctx = this.requestContexts.get(job.id) ?? destination;
    if (!this.requestContexts.has(job.id) && job.spec.requestCredentials) {
      // The request's credentials were only ever in memory and the service has restarted since.
      this.log.warn(
        'asked with credentials in its request, which are not kept across restarts; continuing with the configured credentials',
        { jobId: job.id },
      );
    }
    return { results: await syncProject(forJob(ctx, job.id, signal), job.spec, onImage) };
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
      ...[...this.destinationContexts.values()].map((c) => c.close(force)),
      ...[...this.requestContexts.values()].map((c) => c.close(force)),
    ]);
  }
}

/** A job queued for a destination the configuration no longer has: no attempt can succeed. */
function unknownDestination(destination: string, configured: string[]): Error {
  return Object.assign(
    new Error(
      `this job writes to ${destination}, which is no longer a configured destination (now ${configured.join(', ')}): put it back in Destinations or NamespaceMap, or sync the project again`,
    ),
    { permanent: true },
  );
}
