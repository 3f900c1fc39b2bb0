// Sync of a whole Harbor project (or some of its repositories and tags) into one namespace: list through
// Harbor's API, copy every tag through the engine's images-in-flight limit.
import pLimit from 'p-limit';
import { RunState, type ImageResult } from '../copy/index.js';
import type { ProjectJobSpec } from '../jobs/types.js';
import type { SyncContext, SyncProgress } from './context.js';
import { swrRepositoryProblem } from '../swr/names.js';
import { explained, logResult, refusedName } from './log-result.js';
import { ListedRunState, NamespaceState, listedSameDigest } from './destination-state.js';
import { recordWritten } from './written.js';

interface Planned {
  repository: string;
  tag: string;
  digest: string;
}

export async function planProject(ctx: SyncContext, spec: ProjectJobSpec): Promise<Planned[]> {
  const repositories = (await ctx.harbor.listRepositories(spec.project)).filter(
    (r) => !spec.repositories || spec.repositories.includes(r),
  );
  const listing = pLimit(4);
  const perRepository = await Promise.all(
    repositories.map((repository) =>
      listing(async () => {
        const artifacts = await ctx.harbor.listArtifacts(spec.project, repository);
        return artifacts.flatMap((a) =>
          a.tags
            .filter((t) => !spec.tags || spec.tags.includes(t))
            .map((tag) => ({ repository, tag, digest: a.digest })),
        );
      }),
    ),
  );
  return perRepository.flat();
}

export async function syncProject(
  ctx: SyncContext,
  spec: ProjectJobSpec,
  progress?: SyncProgress,
): Promise<ImageResult[]> {
  const logs = ctx.logs(spec.project);
  const plan = await planProject(ctx, spec);
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
  return results;
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
