// copyImage: one source image (tag or digest) to one destination tag, skipping what is already there and
// honouring the overwrite policy and platform filter.
import {
  digestOf,
  isDigest,
  isIndexType,
  hasCode,
  platformString,
  RegistryError,
  type CallOptions,
  type FetchedManifest,
  type ImageIndex,
} from '../oci/index.js';
import type { EngineContext, RepositoryRef, RunState } from './context.js';
import { convertedDigest, planConversion, type ConversionPlan } from './conversion-plan.js';
import { ConversionError } from './convert.js';
import { describePlan, mayBeConverted, planImageCopy, type ImageCopyPlan } from './image-plan.js';
import { ManifestBudget } from './manifest-budget.js';
import { copyManifestTree, type TreeCopy } from './manifest-tree.js';
import { parsePlatform, platformMatches } from './platform.js';
import { copyReferrers } from './referrers.js';
import { ImageTally, type ImageResult } from './results.js';

export interface SourceImage extends RepositoryRef {
  /** Tag or digest. */
  reference: string;
}

export interface DestinationImage extends RepositoryRef {
  /** Tag to write; without one the image is pushed by digest. */
  tag?: string;
  /** Overrides the engine's overwrite option for this destination (a request's own ImageOverwrite). */
  overwrite?: boolean;
  /** Decide as a copy would, write nothing: the result says what would happen and why. */
  dryRun?: boolean;
}

export function describe(ref: RepositoryRef, reference: string | undefined): string {
  const base = `${ref.client.host}/${ref.repository}`;
  if (!reference) return base;
  return isDigest(reference) ? `${base}@${reference}` : `${base}:${reference}`;
}

export async function copyImage(
  ctx: EngineContext,
  run: RunState,
  source: SourceImage,
  destination: DestinationImage,
): Promise<ImageResult> {
  const tally = new ImageTally(run.signal);
  const labels = {
    source: describe(source, source.reference),
    destination: describe(destination, destination.tag ?? (isDigest(source.reference) ? source.reference : undefined)),
  };
  ctx.events.emit('image-start', labels);
  try {
    let result = await copyImageSteps(ctx, run, source, destination, tally, labels);
    if (destination.dryRun && !result.dryRun)
      result = { ...result, dryRun: true, reason: `dry run: would skip (${result.reason})` };
    ctx.events.emit(result.status === 'skipped' ? 'image-skipped' : 'image-done', result);
    return result;
  } catch (error) {
    const result = tally.result({
      ...labels,
      status: 'failed',
      reason: error instanceof Error ? error.message : String(error),
      errorCode: error instanceof RegistryError || error instanceof ConversionError ? error.code : undefined,
    });
    ctx.events.emit('image-failed', result);
    return result;
  }
}

async function copyImageSteps(
  ctx: EngineContext,
  run: RunState,
  source: SourceImage,
  destination: DestinationImage,
  tally: ImageTally,
  labels: { source: string; destination: string },
): Promise<ImageResult> {
  const call = tally.call;
  const budget = new ManifestBudget();
  const filtering = ctx.options.platforms.length > 0;
  const absent = await run.repositoryAbsent(destination);
  const existing = absent ? undefined : await destinationHead(run, source, destination, call);

  let wanted: FetchedManifest | undefined;
  let sourceDigest: string;
  if (existing && !filtering) {
    sourceDigest = isDigest(source.reference)
      ? source.reference
      : ((await source.client.headManifest(source.repository, source.reference, call))?.digest ?? missing(source));
  } else {
    wanted = await source.client.getManifest(source.repository, source.reference, call);
    sourceDigest = wanted.digest;
    if (filtering) wanted = await selectPlatforms(ctx, source, wanted, tally);
  }
  if (existing && existing.digest === (wanted?.digest ?? sourceDigest)) {
    return tally.result({
      ...labels,
      status: 'skipped',
      skip: 'same-digest',
      reason: 'destination already has this digest',
      sourceDigest,
      destinationDigest: existing.digest,
      mediaType: existing.mediaType,
    });
  }
  let conversion: ConversionPlan | undefined;
  if (existing && ctx.options.manifestFormat !== 'preserve') {
    // The destination may hold this image converted to Docker formats: compare with what conversion would give.
    wanted ??= await source.client.getManifest(source.repository, source.reference, call);
    if (mayBeConverted(wanted.mediaType, ctx.options.manifestFormat)) {
      conversion = await tryPlan(source, wanted, call, budget);
      if (conversion && convertedDigest(conversion, wanted) === existing.digest) {
        return tally.result({
          ...labels,
          status: 'skipped',
          skip: 'same-converted',
          reason: 'destination already has this image, converted to Docker format',
          sourceDigest,
          destinationDigest: existing.digest,
          mediaType: existing.mediaType,
          converted: true,
        });
      }
    }
  }
  const targetDigest = wanted?.digest ?? sourceDigest;
  if (existing && !(destination.overwrite ?? ctx.options.overwrite)) {
    return tally.result({
      ...labels,
      status: 'skipped',
      skip: 'overwrite-off',
      reason: `destination tag points at ${existing.digest}, not ${targetDigest}, and overwrite is off (set ImageOverwrite=true / --overwrite to replace it)`,
      sourceDigest,
      destinationDigest: existing.digest,
    });
  }
  wanted ??= await source.client.getManifest(source.repository, source.reference, call);
  const plan = planImageCopy({
    mediaType: wanted.mediaType,
    existingDigest: existing?.digest,
    manifestFormat: ctx.options.manifestFormat,
    destinationDockerOnly: ctx.dockerOnly.has(destination.client.host),
  });
  if (destination.dryRun) return plannedCopy(plan, wanted, tally, labels, sourceDigest);
  const empty = await run.repositoryEmpty(destination);
  const job: TreeCopy = { source, destination, tally, destinationEmpty: empty, budget };
  if (plan.format === 'docker') job.conversion = conversion ?? (await planConversion(source, wanted, call, budget));
  let pushed: FetchedManifest;
  try {
    pushed = await copyManifestTree(ctx, job, wanted, destination.tag);
  } catch (error) {
    if (!(plan.format === 'docker-if-refused' && isFormatRejection(error))) throw error;
    // The destination takes only Docker formats (SWR's basic edition): remember that for this host and convert.
    ctx.dockerOnly.add(destination.client.host);
    ctx.events.emit('retry', {
      destination: labels.destination,
      what: 'manifest format',
      reason: `${destination.client.host} refused the OCI manifest; converting to Docker format`,
    });
    job.conversion = conversion ?? (await planConversion(source, wanted, call, budget));
    pushed = await copyManifestTree(ctx, job, wanted, destination.tag);
  }
  const converted = job.conversion !== undefined;
  if (ctx.options.referrers) {
    if (converted)
      tally.notes.push(
        'signatures and other referrers were not copied: they name the OCI digest, which conversion changed',
      );
    else await copyReferrersTolerantly(ctx, job, wanted, tally);
  }
  return tally.result({
    ...labels,
    status: 'copied',
    sourceDigest,
    destinationDigest: pushed.digest,
    mediaType: pushed.mediaType,
    converted,
  });
}

async function tryPlan(
  source: SourceImage,
  manifest: FetchedManifest,
  call: CallOptions,
  budget: ManifestBudget,
): Promise<ConversionPlan | undefined> {
  try {
    return await planConversion(source, manifest, call, budget);
  } catch (error) {
    if (error instanceof ConversionError) return undefined;
    throw error;
  }
}

function isFormatRejection(error: unknown): boolean {
  return hasCode(error, 'MANIFEST_INVALID', 'UNSUPPORTED') && error.status === 400;
}

/** Referrers are extras: a destination that refuses them (SWR refuses OCI artifacts) costs a note, not the image. */
async function copyReferrersTolerantly(
  ctx: EngineContext,
  job: TreeCopy,
  manifest: FetchedManifest,
  tally: ImageTally,
): Promise<void> {
  try {
    await copyReferrers(ctx, job, manifest);
  } catch (error) {
    tally.notes.push(`signatures and other referrers were not copied: ${(error as Error).message}`);
  }
}

async function destinationHead(run: RunState, source: SourceImage, destination: DestinationImage, call: CallOptions) {
  const reference = destination.tag ?? source.reference;
  if (!isDigest(reference)) {
    // One tag listing per repository and run answers "is this tag there at all" for every image in it.
    const tags = await run.destinationTags(destination, call);
    if (!tags?.has(reference)) return undefined;
  }
  return destination.client.headManifest(destination.repository, reference, call);
}

/**
 * Applies the platform filter to an index. One platform asked for: that platform's image itself, as
 * `crane --platform` does. Several: a new index of just those, which necessarily has a new digest.
 */
async function selectPlatforms(
  ctx: EngineContext,
  source: SourceImage,
  manifest: FetchedManifest,
  tally: ImageTally,
): Promise<FetchedManifest> {
  if (!isIndexType(manifest.mediaType)) return manifest;
  const index = manifest.parsed as ImageIndex;
  const wanted = ctx.options.platforms.map(parsePlatform);
  const children = index.manifests.filter((child) => wanted.some((w) => platformMatches(w, child.platform)));
  if (children.length === 0) {
    const available = index.manifests.map((c) => platformString(c.platform)).join(', ');
    throw new RegistryError({
      code: 'PLATFORM_NOT_FOUND',
      status: 0,
      host: source.client.host,
      repository: source.repository,
      reference: source.reference,
      message: `${describe(source, source.reference)} has no ${ctx.options.platforms.join(' or ')} image`,
      hint: `it has: ${available}`,
    });
  }
  if (wanted.length === 1 && children.length === 1) {
    tally.platforms.add(platformString(children[0].platform));
    return source.client.getManifest(source.repository, children[0].digest, tally.call);
  }
  const filtered = { ...(JSON.parse(manifest.bytes.toString('utf8')) as ImageIndex), manifests: children };
  const bytes = Buffer.from(JSON.stringify(filtered, null, 2));
  return { mediaType: manifest.mediaType, bytes, digest: digestOf(bytes), parsed: filtered };
}

function missing(source: SourceImage): never {
  throw new RegistryError({
    code: 'MANIFEST_UNKNOWN',
    status: 404,
    host: source.client.host,
    repository: source.repository,
    reference: source.reference,
    message: `${describe(source, source.reference)} does not exist`,
    hint: 'check the repository and tag',
  });
}

/** A dry run's result: what a copy would do, past every reason to skip (the plan the copy itself follows). */
function plannedCopy(
  plan: ImageCopyPlan,
  wanted: FetchedManifest,
  tally: ImageTally,
  labels: { source: string; destination: string },
  sourceDigest: string,
): ImageResult {
  return tally.result({
    ...labels,
    status: 'skipped',
    skip: 'planned',
    dryRun: true,
    reason: describePlan(plan),
    sourceDigest,
    destinationDigest: plan.existingDigest,
    mediaType: wanted.mediaType,
    converted: plan.format === 'docker' ? true : undefined,
  });
}
