// The reconcile sweep: Harbor sends no webhook when a tag is added to an existing artifact, sends duplicates,
// and gives up after a few tries, so every mapped project is compared now and then with the destination and
// a job is queued for each tag that is missing there (or differs, when ImageOverwrite is on).
//
// On SWR with its management API (`ctx.listing`) the destination side is one namespace listing per project
// and one tag listing (with digests) per repository that has tags: no HEAD at all. Elsewhere, or when that API
// refuses, the registry API answers as described next.
//
// Through the registry API it reads only listings and manifest heads: per project one Harbor repository listing, per repository one
// Harbor artifact listing (tags with digests) and one destination tag listing, then one HEAD per tag the
// destination already has. Nothing is copied here; queued jobs go through the same store, with the same
// dedupe key as webhooks, so a tag a webhook already queued joins that job.
//
// Repositories and tags a project's filter rules leave out (IncludeTags, ...) are neither compared nor queued.
//
// Images converted to Docker format at the destination (SWR's basic edition refuses OCI) have another
// digest there. For an OCI source whose destination digest differs, the sweep works out the digest the
// conversion gives (one source manifest GET per distinct digest, plus its children for an index, kept in
// `convertedDigests` across sweeps) and counts a match as in step, so a converted image is not queued again
// at every sweep. What still differs is queued only with ImageOverwrite=true, else logged.
import pLimit from 'p-limit';
import type winston from 'winston';
import { planConversion, convertedDigest } from '../copy/conversion-plan.js';
import { ConversionError } from '../copy/convert.js';
import { mayBeConverted } from '../copy/image-plan.js';
import { rulesFor } from '../filters/rules.js';
import { filteredBy, repositoryFilteredBy } from '../filters/select.js';
import { swrRepositoryProblem } from '../swr/names.js';
import type { HarborArtifact } from '../harbor/source.js';
import type { JobQueue } from '../jobs/queue.js';
import type { SyncContext } from './context.js';
import { imageJobKey } from './job-keys.js';
import { NamespaceState } from './destination-state.js';
import { queueSweepDeletes } from './reconcile-deletes.js';
import { emptySummary, summaryLine, type ReconcileSummary } from './reconcile-summary.js';

export type { ReconcileSummary } from './reconcile-summary.js';

export interface ReconcileOptions {
  /** Destination host as the webhook path names it in job keys (SWRRegistry or the region's host). */
  destination: string;
  /** Named in each job's spec when the deployment has several destinations. */
  specDestination?: string;
  log: winston.Logger;
  /** ManifestFormat: with `preserve` nothing is converted, so an OCI source is compared as it is. */
  manifestFormat?: 'auto' | 'preserve' | 'docker';
  /** Source digest -> digest of its Docker conversion, kept by the caller across sweeps. */
  convertedDigests?: Map<string, string | null>;
  /** Manifest heads in flight at once (they pass the destination's requests-per-second limit anyway). */
  headConcurrency?: number;
  /** Stops the sweep between requests (service shutdown). */
  signal?: AbortSignal;
  /** ReconcileDeletes: also queue the deletion of tags the service wrote that Harbor no longer has. */
  deletes?: boolean;
}

interface SourceTag {
  tag: string;
  artifact: HarborArtifact;
}

const CONVERSION_CACHE_LIMIT = 10_000;
const LIST_AHEAD = 4;

export async function reconcile(
  ctx: SyncContext,
  store: Pick<JobQueue, 'enqueue'>,
  namespaceMap: ReadonlyMap<string, string>,
  options: ReconcileOptions,
): Promise<ReconcileSummary> {
  const started = Date.now();
  const summary = emptySummary();
  const heads = pLimit(options.headConcurrency ?? 8);
  const cache = options.convertedDigests ?? new Map<string, string | null>();
  const aborted = () => options.signal?.aborted === true;
  const listingRequestsBefore = ctx.listing?.requests ?? 0;

  for (const [project, namespace] of namespaceMap) {
    if (aborted()) break;
    const logs = ctx.logs(project);
    const state = new NamespaceState(ctx.listing, namespace);
    let repositories: string[];
    try {
      summary.requests.harbor++;
      repositories = await ctx.harbor.listRepositories(project);
    } catch (error) {
      summary.errors++;
      options.log.warn(
        `reconcile: cannot list the repositories of Harbor project ${project}: ${(error as Error).message}`,
      );
      continue;
    }
    summary.projects++;
    const harborTags = new Map<string, Set<string>>();
    // Deletions judge by what Harbor has, filtered out or not: a repository left out below is not read, so kept.
    const listedRepositories = new Set(repositories);
    const rules = rulesFor(ctx.filters, project);
    const selected = (rule: string | undefined) => (rule ? (summary.filtered++, false) : true);
    repositories = repositories.filter((repository) => selected(repositoryFilteredBy(rules, repository)));
    // The listings of the next few repositories are asked while one is compared: on SWR the sweep is listings only,
    // so waiting for each in turn would be most of its time. Comparisons and jobs keep the repositories' order.
    const listings = new Map<string, Promise<HarborArtifact[]>>();
    const listAhead = (from: number) => {
      for (const next of repositories.slice(from, from + LIST_AHEAD)) {
        if (listings.has(next)) continue;
        summary.requests.harbor++;
        const listed = ctx.harbor.listArtifacts(project, next);
        listed.catch(() => undefined); // awaited, and reported, when its turn comes
        listings.set(next, listed);
        void state.tagDigests(next).catch(() => undefined);
      }
    };
    for (const [index, repository] of repositories.entries()) {
      if (aborted()) break;
      listAhead(index);
      const target = `${namespace}/${repository}`;
      try {
        const artifacts = await listings.get(repository)!;
        listings.delete(repository);
        harborTags.set(repository, new Set(artifacts.flatMap((a) => a.tags)));
        const tagged: SourceTag[] = artifacts
          .flatMap((artifact) => artifact.tags.map((tag) => ({ tag, artifact })))
          .filter(({ tag, artifact }) => selected(filteredBy(rules, { repository, tag, labels: artifact.labels })));
        if (tagged.length === 0) continue;
        summary.repositories++;
        summary.tags += tagged.length;
        const problem = swrRepositoryProblem(target);
        if (problem) {
          // A job would only fail with the same reason at every sweep; the webhook path reports it once per push.
          logs.running.warn(
            `reconcile: ${project}/${repository} not compared: destination repository name "${target}" ${problem}`,
          );
          continue;
        }
        if (aborted()) break;
        const digests = await state.tagDigests(repository);
        if (!digests) summary.requests.destination++;
        const present = new Set(digests ? digests.keys() : ((await ctx.destination.listTags(target)) ?? []));

        // Tags to queue, by source digest: one job per artifact carries all of its tags.
        const toQueue = new Map<string, string[]>();
        const queue = (item: SourceTag) => {
          const tags = toQueue.get(item.artifact.digest) ?? [];
          tags.push(item.tag);
          toQueue.set(item.artifact.digest, tags);
        };
        await Promise.all(
          tagged.map((item) =>
            heads(async () => {
              if (!present.has(item.tag)) {
                summary.missing++;
                queue(item);
                return;
              }
              if (aborted()) return;
              if (!digests) summary.requests.destination++;
              const head = digests
                ? { digest: digests.get(item.tag)! }
                : await ctx.destination.headManifest(target, item.tag);
              if (!head) {
                // Listed but gone (deleted meanwhile): missing after all.
                summary.missing++;
                queue(item);
                return;
              }
              if (head.digest === item.artifact.digest) return;
              if (mayBeConverted(item.artifact.mediaType, options.manifestFormat)) {
                const converted = await convertedDigestOf(
                  ctx,
                  cache,
                  `${project}/${repository}`,
                  item.artifact.digest,
                  summary,
                );
                if (converted === head.digest) {
                  summary.converted++;
                  return;
                }
              }
              summary.differing++;
              if (ctx.overwrite) {
                logs.running.info(
                  `reconcile: ${ctx.destination.host}/${target}:${item.tag} points at ${head.digest}, Harbor has ${item.artifact.digest}; queued (ImageOverwrite=true)`,
                );
                queue(item);
              } else {
                logs.running.info(
                  `reconcile: ${ctx.destination.host}/${target}:${item.tag} points at ${head.digest}, Harbor has ${item.artifact.digest}; not queued (ImageOverwrite=false)`,
                );
              }
            }),
          ),
        );
        if (aborted()) break;
        for (const [digest, tags] of toQueue) {
          const spec = {
            kind: 'image' as const,
            project,
            repository,
            digest,
            tags,
            namespace,
            ...(options.specDestination ? { destination: options.specDestination } : {}),
          };
          const { job, merged } = await store.enqueue(spec, imageJobKey(options.destination, spec));
          if (merged) summary.merged++;
          else summary.queued++;
          logs.running.info(
            `reconcile: ${project}/${repository}:${tags.join(',')} (${digest}) ${merged ? 'joined this job' : 'queued'}`,
            { jobId: job.id },
          );
        }
      } catch (error) {
        summary.errors++;
        logs.running.warn(`reconcile: ${project}/${repository} not compared: ${(error as Error).message}`);
      }
    }
    if (options.deletes && !aborted()) {
      const view = { project, namespace, repositories: listedRepositories, tags: harborTags };
      try {
        const deletes = await queueSweepDeletes(ctx, store, view, options, logs);
        summary.deletes += deletes.queued;
        summary.merged += deletes.merged;
      } catch (error) {
        summary.errors++;
        logs.running.warn(`reconcile: deletions of ${project} not queued: ${(error as Error).message}`);
      }
    }
  }
  summary.requests.destination += (ctx.listing?.requests ?? 0) - listingRequestsBefore;
  summary.aborted = aborted();
  summary.ms = Date.now() - started;
  options.log.info(summaryLine(summary, { ...options, overwrite: ctx.overwrite }));
  if (summary.filtered > 0)
    options.log.info(`reconcile: ${summary.filtered} repositories and tags left out by filter rules, not compared`);
  return summary;
}

/** The digest the source's Docker conversion has; null when it cannot be converted (or read). Cached. */
async function convertedDigestOf(
  ctx: SyncContext,
  cache: Map<string, string | null>,
  repository: string,
  digest: string,
  summary: ReconcileSummary,
): Promise<string | null> {
  if (cache.has(digest)) return cache.get(digest)!;
  let converted: string | null;
  try {
    const counters = { retries: 0 };
    summary.requests.source++;
    const manifest = await ctx.source.getManifest(repository, digest, { counters });
    const plan = await planConversion({ client: ctx.source, repository }, manifest, { counters });
    summary.requests.source += Math.max(0, plan.originals.size - 1);
    converted = convertedDigest(plan, manifest);
  } catch (error) {
    // Not convertible (an artifact, zstd layers): it compares as differing, now and at later sweeps.
    // Unreadable (Harbor failing): differing this time, asked again next time.
    if (!(error instanceof ConversionError)) return null;
    converted = null;
  }
  if (cache.size >= CONVERSION_CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(digest, converted);
  return converted;
}
