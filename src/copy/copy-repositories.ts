// Bulk copy of whole repositories (every tag) between two registries, listing through the catalog.
// Used by the `copy-prefix` command and the benchmark; Harbor projects are listed through Harbor's API instead.
import pLimit from 'p-limit';
import { TOKEN_BATCH, type RegistryClient } from '../oci/index.js';
import { RunState } from './context.js';
import type { CopyEngine } from './engine.js';
import type { ImageResult } from './results.js';

export interface RepositoryCopyPlan {
  source: RegistryClient;
  destination: RegistryClient;
  /** Repositories to copy, as source name -> destination name. */
  repositories: Array<{ from: string; to: string }>;
  /** Stops the listings and copies of this plan (an interrupted command). */
  signal?: AbortSignal;
}

/** Maps every catalog repository under `sourcePrefix` to the same path under `destinationPrefix`. */
export async function repositoriesUnderPrefix(
  source: RegistryClient,
  sourcePrefix: string,
  destinationPrefix: string,
): Promise<Array<{ from: string; to: string }>> {
  const all = await source.listRepositories();
  const prefix = sourcePrefix ? `${sourcePrefix.replace(/\/+$/, '')}/` : '';
  return all
    .filter((name) => prefix === '' || name.startsWith(prefix) || name === sourcePrefix)
    .map((name) => {
      const rest = name === sourcePrefix ? '' : name.slice(prefix.length);
      const to = destinationPrefix
        ? rest
          ? `${destinationPrefix.replace(/\/+$/, '')}/${rest}`
          : destinationPrefix
        : rest;
      return { from: name, to };
    });
}

const LISTINGS_IN_FLIGHT = 4;

/**
 * Lists each repository's tags and copies them all; tag listing of one repository overlaps copies of another.
 * Repositories go in batches of `TOKEN_BATCH` whose tokens are asked at once, before the batch's first listing.
 */
export async function copyRepositories(engine: CopyEngine, plan: RepositoryCopyPlan): Promise<ImageResult[]> {
  const run = new RunState(plan.signal);
  const listing = pLimit(LISTINGS_IN_FLIGHT);
  const batches = new Map<number, Promise<unknown>>();
  const prepared = (index: number) => {
    const first = index - (index % TOKEN_BATCH);
    let batch = batches.get(first);
    if (!batch) {
      const members = plan.repositories.slice(first, first + TOKEN_BATCH);
      const call = { signal: plan.signal };
      batch = Promise.all([
        plan.source.prepareScopes(
          members.map((r) => r.from),
          call,
        ),
        plan.destination.prepareScopes(
          members.map((r) => r.to),
          call,
        ),
      ]);
      batches.set(first, batch);
    }
    return batch;
  };
  const perRepository = plan.repositories.map(async ({ from, to }, index) => {
    const tags =
      (await listing(async () => {
        await prepared(index);
        return plan.source.listTags(from, { signal: plan.signal });
      })) ?? [];
    return Promise.all(
      tags.map((tag) =>
        engine.copyInFlight(
          {
            source: { client: plan.source, repository: from, reference: tag },
            destination: { client: plan.destination, repository: to, tag },
          },
          run,
        ),
      ),
    );
  });
  return (await Promise.all(perRepository)).flat();
}
