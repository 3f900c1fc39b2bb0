// Copies one blob to a destination repository the cheapest way that works: already there (index or HEAD),
// mounted from a sibling repository of the same registry, or streamed from the source with its digest checked.
import { verifyStream, type Descriptor, type RegistryClient } from '../oci/index.js';
import { throttled } from './bandwidth.js';
import type { EngineContext, RepositoryRef } from './context.js';
import type { BlobAction } from './events.js';
import type { ImageTally } from './results.js';

/** Progress events at most every this many bytes per blob. */
const PROGRESS_STEP = 4 * 1024 * 1024;

export interface BlobCopy {
  source: RepositoryRef;
  destination: RepositoryRef;
  blob: Descriptor;
  tally: ImageTally;
  /** The destination repository held no image when the run started: upload without an existence check. */
  destinationEmpty: boolean;
  /** Ignore what the index says and ask the registry (after it reported this blob missing). */
  distrustIndex?: boolean;
}

export async function copyBlob(ctx: EngineContext, job: BlobCopy): Promise<BlobAction> {
  const dst = job.destination;
  // Each digest travels to a registry once at a time: a second image needing it waits, then mounts or skips.
  for (;;) {
    if (!job.distrustIndex && (await ctx.index.has(dst.client.host, job.blob.digest, dst.repository))) {
      return finish(ctx, job, 'skipped');
    }
    const flight = await ctx.blobFlights.run(`${dst.client.host} ${job.blob.digest}`, () => transferBlob(ctx, job));
    if (flight.ran && flight.value !== 'elsewhere') return flight.value;
    job.distrustIndex = false;
  }
}

/** How often a process waiting for another's upload of the same blob looks again. */
const CLAIM_POLL_MS = 100;

/** 'elsewhere': another process was uploading the blob and has finished; look again (now it can be mounted). */
async function transferBlob(ctx: EngineContext, job: BlobCopy): Promise<BlobAction | 'elsewhere'> {
  const { source: src, destination: dst, blob } = job;
  const host = dst.client.host;
  const candidates = (await ctx.index.candidates(host, blob.digest, 3)).filter((r) => r !== dst.repository);
  if (src.client.host === host && src.repository !== dst.repository) candidates.push(src.repository);

  let session: string | undefined;
  if (candidates.length > 0) {
    const from = candidates[0];
    try {
      const started = await dst.client.startUpload(dst.repository, { digest: blob.digest, from }, job.tally.call);
      if (started.kind === 'mounted') return finish(ctx, job, 'mounted', from);
      session = started.location;
    } catch {
      // Mounting is an optimisation: registries refuse it in many ways (401 from Harbor, 404, 405). Upload instead.
    }
  }
  // A HEAD only where it can spare an upload: a repository that already holds images (or a blob it lost).
  if (!session && (job.distrustIndex || !job.destinationEmpty)) {
    if (await dst.client.headBlob(dst.repository, blob.digest, job.tally.call)) return finish(ctx, job, 'skipped');
  }
  const claim = ctx.claims ? await ctx.claims.claim(host, blob.digest) : undefined;
  if (ctx.claims && !claim) {
    if (session) await dst.client.cancelUpload(dst.repository, session);
    while (await ctx.claims.held(host, blob.digest)) await ctx.clock.sleep(CLAIM_POLL_MS, job.tally.call.signal);
    return 'elsewhere';
  }
  if (
    claim &&
    candidates.length === 0 &&
    (await ctx.index.candidates(host, blob.digest, 1)).some((r) => r !== dst.repository)
  ) {
    // Another replica uploaded it between our look at the index and our claim: mount it instead.
    await claim.release();
    if (session) await dst.client.cancelUpload(dst.repository, session);
    return 'elsewhere';
  }
  try {
    await ctx.withTransferSlots(src.client, dst.client, () => uploadWithRetries(ctx, job, session));
    return await finish(ctx, job, 'uploaded');
  } finally {
    await claim?.release();
  }
}

async function uploadWithRetries(ctx: EngineContext, job: BlobCopy, firstSession: string | undefined): Promise<void> {
  const dst = job.destination;
  let session = firstSession;
  for (let attempt = 1; ; attempt++) {
    session ??= (await openSession(dst.client, dst.repository, job)).location;
    try {
      ctx.events.emit('blob-start', {
        destination: `${dst.client.host}/${dst.repository}`,
        digest: job.blob.digest,
        size: job.blob.size,
      });
      await uploadOnce(ctx, job, session);
      return;
    } catch (error) {
      // The session is given back even when the run is being stopped: it would hold space on the registry.
      await dst.client.cancelUpload(dst.repository, session);
      session = undefined;
      job.tally.call.signal?.throwIfAborted();
      const decision = ctx.blobRetryPolicy.decide(attempt, { error });
      if (!decision.retry) throw error;
      job.tally.counters.retries++;
      ctx.events.emit('retry', {
        destination: `${dst.client.host}/${dst.repository}`,
        what: `blob ${job.blob.digest}`,
        reason: (error as Error).message,
      });
      await ctx.clock.sleep(decision.delayMs, job.tally.call.signal);
    }
  }
}

async function openSession(
  client: RegistryClient,
  repository: string,
  job: BlobCopy,
): Promise<{ location: string; minChunk?: number }> {
  const started = await client.startUpload(repository, undefined, job.tally.call);
  if (started.kind !== 'session') throw new Error('registry mounted a blob that was not asked to be mounted');
  return started;
}

async function uploadOnce(ctx: EngineContext, job: BlobCopy, session: string): Promise<void> {
  const { destination: dst, blob } = job;
  const refused =
    (await dst.client.putBlob(dst.repository, session, blob, sourceBytes(ctx, job), job.tally.call)) === 'refused';
  if (!refused) {
    job.tally.bytesUploaded += blob.size;
    return;
  }
  // The registry (or a proxy before it) will not take the blob in one request: send it in chunks instead.
  await dst.client.cancelUpload(dst.repository, session);
  const chunked = await openSession(dst.client, dst.repository, job);
  // A registry that states a minimum chunk (OCI-Chunk-Min-Length) refuses smaller ones.
  const chunkSize = Math.max(ctx.options.chunkSize, chunked.minChunk ?? 0);
  try {
    await dst.client.putBlobChunked(
      dst.repository,
      chunked.location,
      blob,
      sourceBytes(ctx, job),
      chunkSize,
      job.tally.call,
    );
  } catch (error) {
    await dst.client.cancelUpload(dst.repository, chunked.location);
    throw error;
  }
  job.tally.bytesUploaded += blob.size;
}

function sourceBytes(ctx: EngineContext, job: BlobCopy): AsyncGenerator<Buffer> {
  const { source: src, destination: dst, blob } = job;
  const label = `${dst.client.host}/${dst.repository}`;
  const raw = src.client.readBlob(src.repository, blob, {
    ...job.tally.call,
    onResume: (offset, error) =>
      ctx.events.emit('retry', {
        destination: label,
        what: `download of ${blob.digest} resumed at byte ${offset}`,
        reason: (error as Error).message,
      }),
  });
  let reported = 0;
  const onBytes = (bytes: number) => {
    if (bytes - reported < PROGRESS_STEP && bytes !== blob.size) return;
    reported = bytes;
    ctx.events.emit('blob-progress', { destination: label, digest: blob.digest, bytes, size: blob.size });
  };
  const verified = verifyStream(raw, {
    digest: blob.digest,
    size: blob.size,
    host: src.client.host,
    repository: src.repository,
    onBytes,
  });
  // MaxBandwidth: each chunk waits for its share before it goes on to the destination (and the next is read).
  return ctx.bandwidth ? throttled(verified, ctx.bandwidth, job.tally.call.signal) : verified;
}

async function finish(ctx: EngineContext, job: BlobCopy, action: BlobAction, from?: string): Promise<BlobAction> {
  const dst = job.destination;
  await ctx.index.record(dst.client.host, job.blob.digest, dst.repository);
  if (action === 'skipped') job.tally.blobsSkipped++;
  else if (action === 'mounted') job.tally.blobsMounted++;
  else job.tally.blobsUploaded++;
  ctx.events.emit('blob', {
    destination: `${dst.client.host}/${dst.repository}`,
    digest: job.blob.digest,
    size: job.blob.size,
    action,
    from,
  });
  return action;
}
