// A delete job: removes at the destination the tags the service wrote for a source digest Harbor deleted, and
// nothing else. Tags Harbor has at that digest again are kept; a tag that points elsewhere now (someone else
// wrote it) is left alone and no longer counted as the service's. On SWR each tag goes through the management
// API; on any other registry the manifest DELETE removes every tag on the digest, so it is sent only when all
// of them are the service's to delete.
import { ImageTally, type ImageResult } from '../copy/index.js';
import type { DeleteJobSpec } from '../jobs/types.js';
import type { WrittenTag } from '../jobs/written-tags.js';
import type { ProjectLogs } from '../logging/logs.js';
import type { SyncContext, SyncOutcome } from './context.js';
import { NamespaceState } from './destination-state.js';
import { logDeleted } from './written.js';

interface Names {
  source: (tag: string) => string;
  destination: (tag: string) => string;
}

export async function deleteWrittenTags(ctx: SyncContext, spec: DeleteJobSpec): Promise<SyncOutcome> {
  const logs = ctx.logs(spec.project);
  const host = ctx.destination.host;
  const repository = `${spec.namespace}/${spec.repository}`;
  const names: Names = {
    source: (tag) => `${ctx.source.host}/${spec.project}/${spec.repository}:${tag}`,
    destination: (tag) => `${host}/${repository}:${tag}`,
  };
  if (!ctx.written) throw new Error('this service keeps no record of the tags it wrote, so it deletes nothing');
  const recorded = await ctx.written.bySource(host, repository, spec.digest);
  if (recorded.length === 0) {
    logs.running.info(
      `${spec.project}/${spec.repository}@${spec.digest} deleted in Harbor: this service wrote no tag of it at ${host}/${repository}; nothing to delete`,
    );
    return { results: [], skipped: 'the service wrote no tag of this digest at the destination' };
  }
  // Harbor may have a tag at this digest again (pushed anew since the event): asked of Harbor's registry, tag by
  // tag, which answers alike for every Harbor version and a plain registry; a failure to ask fails the attempt.
  const source = `${spec.project}/${spec.repository}`;
  const call = { signal: ctx.signal };
  const results: ImageResult[] = [];
  const doomed: WrittenTag[] = [];
  for (const tag of recorded) {
    if ((await ctx.source.headManifest(source, tag.tag, call))?.digest === spec.digest) {
      logs.running.info(
        `${names.destination(tag.tag)} kept: Harbor has ${spec.project}/${spec.repository}:${tag.tag} at this digest again`,
      );
      results.push(skipped(names, tag, 'Harbor has this tag at this digest again'));
    } else doomed.push(tag);
  }
  const ours = await stillOurs(ctx, spec, doomed, names, logs, results);
  if (ctx.deleteTag) {
    for (const tag of ours) {
      await ctx.deleteTag(spec.namespace, spec.repository, tag.tag);
      await ctx.written.forget(host, repository, tag.tag);
      logDeleted(logs, names.source(tag.tag), names.destination(tag.tag), tag.digest);
      results.push(deleted(names, tag));
    }
  } else {
    await deleteManifests(ctx, repository, ours, names, logs, results);
  }
  const done = results.filter((r) => r.status === 'deleted').length;
  return done > 0 || results.some((r) => r.status === 'failed')
    ? { results }
    : { results, skipped: "no tag was the service's to delete" };
}

/**
 * The recorded tags that still point at the digest the service wrote. One gone already is forgotten; one that
 * points elsewhere was written by someone else since: left alone with a warning, and forgotten, so that no
 * later event deletes it either (a later sync that writes it again records it again).
 */
async function stillOurs(
  ctx: SyncContext,
  spec: DeleteJobSpec,
  tags: WrittenTag[],
  names: Names,
  logs: ProjectLogs,
  results: ImageResult[],
): Promise<WrittenTag[]> {
  const state = new NamespaceState(ctx.listing, spec.namespace);
  const listed = await state.tagDigests(spec.repository, false);
  const call = { signal: ctx.signal };
  const ours: WrittenTag[] = [];
  for (const tag of tags) {
    const now = listed
      ? listed.get(tag.tag)
      : (await ctx.destination.headManifest(tag.repository, tag.tag, call))?.digest;
    if (now === tag.digest) {
      ours.push(tag);
      continue;
    }
    await ctx.written!.forget(tag.destination, tag.repository, tag.tag);
    if (now === undefined) {
      logs.running.info(`${names.destination(tag.tag)} is gone from the destination already`);
      results.push(skipped(names, tag, 'gone from the destination already'));
    } else {
      logs.running.warn(
        `${names.destination(tag.tag)} left alone: it points at ${now}, not at ${tag.digest} which this service wrote; someone else wrote it since`,
      );
      results.push(skipped(names, tag, `left alone: points at ${now}, not at ${tag.digest} which this service wrote`));
    }
  }
  return ours;
}

/** A registry without single-tag deletes: one manifest DELETE per digest, when every tag on it is ours to delete. */
async function deleteManifests(
  ctx: SyncContext,
  repository: string,
  ours: WrittenTag[],
  names: Names,
  logs: ProjectLogs,
  results: ImageResult[],
): Promise<void> {
  if (ours.length === 0) return;
  const call = { signal: ctx.signal };
  const byDigest = new Map<string, WrittenTag[]>();
  for (const tag of ours) byDigest.set(tag.digest, [...(byDigest.get(tag.digest) ?? []), tag]);
  const present = (await ctx.destination.listTags(repository, call)) ?? [];
  for (const [digest, tags] of byDigest) {
    const mine = new Set(tags.map((t) => t.tag));
    const others: string[] = [];
    for (const tag of present) {
      if (mine.has(tag)) continue;
      if ((await ctx.destination.headManifest(repository, tag, call))?.digest === digest) others.push(tag);
    }
    if (others.length > 0) {
      const reason = `not deleted: ${ctx.destination.host} deletes a manifest with every tag on it, and ${others.join(', ')} ${others.length === 1 ? 'is' : 'are'} on ${digest} too without being this service's to delete`;
      logs.running.warn(`${names.destination(tags.map((t) => t.tag).join(','))} ${reason}`);
      for (const tag of tags) results.push(skipped(names, tag, reason));
      continue;
    }
    try {
      await ctx.destination.deleteManifest(repository, digest, call);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code !== 'UNSUPPORTED') throw error;
      const reason = `${(error as Error).message}; on SWR, tags are deleted through its management API instead (${ctx.keyPrefix ?? ''}SWRManageNamespaces=true); or set SyncDeletes=false and ReconcileDeletes=false`;
      for (const tag of tags) results.push(failed(names, tag, reason, 'DELETE_UNSUPPORTED'));
      continue;
    }
    for (const tag of tags) {
      await ctx.written!.forget(tag.destination, tag.repository, tag.tag);
      logDeleted(logs, names.source(tag.tag), names.destination(tag.tag), digest);
      results.push(deleted(names, tag));
    }
  }
}

function deleted(names: Names, tag: WrittenTag): ImageResult {
  return result(names, tag, { status: 'deleted' });
}

function skipped(names: Names, tag: WrittenTag, reason: string): ImageResult {
  return result(names, tag, { status: 'skipped', reason });
}

function failed(names: Names, tag: WrittenTag, reason: string, errorCode: string): ImageResult {
  return result(names, tag, { status: 'failed', reason, errorCode });
}

function result(
  names: Names,
  tag: WrittenTag,
  fields: Pick<ImageResult, 'status'> & Partial<ImageResult>,
): ImageResult {
  return new ImageTally().result({
    source: names.source(tag.tag),
    destination: names.destination(tag.tag),
    sourceDigest: tag.sourceDigest,
    destinationDigest: tag.digest,
    ...fields,
  });
}
