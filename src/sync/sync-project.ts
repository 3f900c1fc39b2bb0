// Sync of a whole Harbor project (or some of its repositories and tags) into one namespace: list through
// Harbor's API, copy every tag through the engine's images-in-flight limit. What the filter rules (app.conf's
// and the request's) leave out becomes a skipped result naming the rule, in dry runs as in real ones.
import pLimit from 'p-limit';
import { ImageTally, RunState, type ImageResult } from '../copy/index.js';
import { rulesFor } from '../filters/rules.js';
import { filteredBy, repositoryFilteredBy } from '../filters/select.js';
import type { ProjectJobSpec } from '../jobs/types.js';
import type { SyncContext, SyncProgress } from './context.js';
import { swrRepositoryProblem } from '../swr/names.js';
import { explained, logResult, logWholeFailure, refusedName } from './log-result.js';
import { ListedRunState, NamespaceState, listedSameDigest } from './destination-state.js';
import { recordWritten } from './written.js';
import { plannedDeletions } from './dry-run-deletes.js';

interface Planned {
  repository: string;
  tag: string;
  digest: string;
}

/** A repository (all its tags) or one tag that a filter rule left out, and the rule. */
interface Filtered {
  repository: string;
  tag?: string;
  rule: string;
}

export async function planProject(
  ctx: SyncContext,
  spec: ProjectJobSpec,
): Promise<{ planned: Planned[]; filtered: Filtered[] }> {
  const rules = rulesFor(ctx.filters, spec.project, spec.filters);
  const filtered: Filtered[] = [];
  // A repository left out by name is not listed at all: its tags cost no request.
  const repositories = (await ctx.harbor.listRepositories(spec.project)).filter((repository) => {
    if (spec.repositories && !spec.repositories.includes(repository)) return false;
    const rule = repositoryFilteredBy(rules, repository);
    if (rule) filtered.push({ repository, rule });
    return !rule;
  });
  const listing = pLimit(4);
  const perRepository = await Promise.all(
    repositories.map((repository) =>
      listing(async () => {
        const artifacts = await ctx.harbor.listArtifacts(spec.project, repository);
        return artifacts.flatMap((a) =>
          a.tags
            .filter((t) => !spec.tags || spec.tags.includes(t))
            .flatMap((tag) => {
              const rule = filteredBy(rules, { repository, tag, labels: a.labels });
              if (rule) filtered.push({ repository, tag, rule });
              return rule ? [] : [{ repository, tag, digest: a.digest }];
            }),
        );
      }),
    ),
  );
  return { planned: perRepository.flat(), filtered };
}

/** What a filtered image is in a job's results and a dry run's plan: skipped, with the rule that left it out. */
function filteredResult(ctx: SyncContext, spec: ProjectJobSpec, item: Filtered): ImageResult {
  const name = `${item.repository}${item.tag ? `:${item.tag}` : ''}`;
  return new ImageTally().result({
    source: `${ctx.source.host}/${spec.project}/${name}`,
    destination: `${ctx.destination.host}/${spec.namespace}/${name}`,
    status: 'skipped',
    skip: 'filtered',
    reason: `skipped: ${item.rule}`,
    ...(spec.dryRun ? { dryRun: true } : {}),
  });
}

/**
 * Syncs the project; a failure of the whole sync (Harbor refusing the login, an unknown project, a namespace that
 * cannot be made) is written to <project>-running.log before it is thrown, where the old tool told users to look.
 */
export async function syncProject(
  ctx: SyncContext,
  spec: ProjectJobSpec,
  progress?: SyncProgress,
): Promise<ImageResult[]> {
  try {
    return await syncPlannedProject(ctx, spec, progress);
  } catch (error) {
    const what = `project sync of ${spec.project} into ${ctx.destination.host}/${spec.namespace}${spec.dryRun ? ' (dry run)' : ''}`;
    logWholeFailure(ctx.logs(spec.project), what, ctx.signal?.aborted === true, error);
    throw error;
  }
}

async function syncPlannedProject(
  ctx: SyncContext,
  spec: ProjectJobSpec,
  progress?: SyncProgress,
): Promise<ImageResult[]> {
  const logs = ctx.logs(spec.project);
  const { planned: plan, filtered } = await planProject(ctx, spec);
  const skipped = filtered.map((item) => filteredResult(ctx, spec, item));
  for (const result of skipped) {
    if (!spec.dryRun) logs.running.info(`${result.source} not synced: ${result.reason}`);
    ctx.engine.events.emit('image-skipped', result);
  }
  logs.running.info(
    `project sync of ${spec.project} into ${ctx.destination.host}/${spec.namespace}: ${plan.length} tags${spec.dryRun ? ' (dry run)' : ''}`,
  );
  if (!spec.dryRun) await ctx.prepare?.(spec.namespace);
  // One namespace listing for the job, then the digests of the repositories that have tags: an unchanged tag
  // costs no registry request, and the engine learns which repositories are new without a tags/list each.
  const state = new NamespaceState(ctx.listing, spec.namespace);
  const listed = await state.repositories();
  const run = listed ? new ListedRunState(state, ctx.destination, ctx.signal) : new RunState(ctx.signal);
  const digestReads = pLimit(4);
  if (!spec.dryRun)
    await prepareTokens(ctx, spec, plan, (repository) =>
      listed ? digestReads(() => state.tagDigests(repository)) : undefined,
    );
  let done = 0;
  let bytes = 0;
  const results = await Promise.all(
    plan.map(async (item) => {
      const source = { client: ctx.source, repository: `${spec.project}/${item.repository}`, reference: item.digest };
      const destination = {
        client: ctx.destination,
        repository: `${spec.namespace}/${item.repository}`,
        tag: item.tag,
        overwrite: spec.overwrite ?? ctx.overwrite,
      };
      const problem = swrRepositoryProblem(destination.repository);
      const digests = listed && !problem ? await digestReads(() => state.tagDigests(item.repository)) : undefined;
      const result = problem
        ? refusedName(
            '',
            `${ctx.destination.host}/${destination.repository}:${item.tag}`,
            `"${destination.repository}" ${problem}`,
          )
        : digests?.get(item.tag) === item.digest
          ? listedSameDigest('', `${ctx.destination.host}/${destination.repository}:${item.tag}`, item.digest)
          : await ctx.engine.copyInFlight({ source, destination: { ...destination, dryRun: spec.dryRun } }, run);
      const named = explained(
        { ...result, source: `${ctx.source.host}/${spec.project}/${item.repository}:${item.tag}` },
        spec.namespace,
        ctx.keyPrefix,
      );
      if (!spec.dryRun) {
        logResult(logs, named);
        await recordWritten(
          ctx,
          {
            project: spec.project,
            namespace: spec.namespace,
            repository: item.repository,
            tag: item.tag,
            sourceDigest: item.digest,
          },
          named,
        );
      }
      done++;
      bytes += result.bytesUploaded;
      progress?.onImage(done, plan.length, bytes);
      return named;
    }),
  );
  const deletions = spec.dryRun ? await plannedDeletions(ctx, spec) : [];
  for (const result of deletions) ctx.engine.events.emit('image-skipped', result);
  return [...skipped, ...results, ...deletions];
}

/**
 * Tokens for the repositories the sync will write, ten to a token request on each side, instead of one request
 * per repository: tags the listing shows unchanged need none (their digests are read once and kept for the copy).
 */
async function prepareTokens(
  ctx: SyncContext,
  spec: ProjectJobSpec,
  plan: Planned[],
  digestsOf: (repository: string) => Promise<Map<string, string> | undefined> | undefined,
): Promise<void> {
  const written = new Set<string>();
  await Promise.all(
    plan.map(async (item) => {
      if (swrRepositoryProblem(`${spec.namespace}/${item.repository}`)) return;
      if ((await digestsOf(item.repository))?.get(item.tag) !== item.digest) written.add(item.repository);
    }),
  );
  const repositories = [...written];
  const call = { signal: ctx.signal };
  await Promise.all([
    ctx.source.prepareScopes(
      repositories.map((r) => `${spec.project}/${r}`),
      call,
    ),
    ctx.destination.prepareScopes(
      repositories.map((r) => `${spec.namespace}/${r}`),
      call,
    ),
  ]);
}
