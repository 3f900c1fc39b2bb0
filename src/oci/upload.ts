// Blob writes: upload sessions, cross-repository mounts, monolithic streaming PUT and chunked PATCH.
import { RegistryError } from './errors.js';
import { repositoryPath } from './paths.js';
import type { RequestScope } from './manifests.js';
import { header, type Transport } from './transport.js';
import type { Descriptor } from './types.js';

export type UploadStart = { kind: 'mounted' } | { kind: 'session'; location: string; minChunk?: number };

export interface MountRequest {
  digest: string;
  /** A repository on the same registry that holds the blob; without it, some registries still find it by digest. */
  from?: string;
}

/**
 * Opens an upload session, or mounts the blob when asked and the registry agrees (201). A 202 answer to a
 * mount is an ordinary session that the caller must use for the upload, so that no session is left dangling.
 */
export async function startUpload(
  transport: Transport,
  repository: string,
  mount: MountRequest | undefined,
  scope: RequestScope,
): Promise<UploadStart> {
  const query = new URLSearchParams();
  if (mount) {
    query.set('mount', mount.digest);
    if (mount.from) query.set('from', mount.from);
  }
  const ctx = {
    host: transport.host,
    repository,
    digest: mount?.digest,
    action: mount ? 'mount blob on' : 'start upload on',
  };
  const res = await transport.expect(
    {
      method: 'POST',
      path: `${repositoryPath(transport.host, repository)}blobs/uploads/${mount ? `?${query}` : ''}`,
      context: ctx,
      ...scope,
    },
    [201, 202],
  );
  await res.body.dump();
  if (res.status === 201 && mount) return { kind: 'mounted' };
  const location = header(res, 'location');
  if (!location) {
    throw new RegistryError({
      code: 'UPLOAD_INVALID',
      status: res.status,
      host: transport.host,
      repository,
      message: `${transport.host} opened an upload without a Location header`,
    });
  }
  const minChunk = Number(header(res, 'oci-chunk-min-length'));
  return {
    kind: 'session',
    location: new URL(location, res.url).toString(),
    minChunk: Number.isFinite(minChunk) && minChunk > 0 ? minChunk : undefined,
  };
}

function withDigest(location: string, digest: string): string {
  const url = new URL(location);
  url.searchParams.set('digest', digest);
  return url.toString();
}

/** Sends the whole blob in one streaming PUT with its length; the registry checks the digest before committing. */
export async function putBlob(
  transport: Transport,
  repository: string,
  location: string,
  blob: Descriptor,
  body: AsyncIterable<Buffer>,
  scope: RequestScope,
): Promise<'done' | 'refused'> {
  const ctx = { host: transport.host, repository, digest: blob.digest, action: 'upload blob to' };
  const res = await transport.send({
    method: 'PUT',
    path: withDigest(location, blob.digest),
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(blob.size) },
    body,
    context: ctx,
    ...scope,
  });
  if (res.status === 201 || res.status === 204) {
    await res.body.dump();
    return 'done';
  }
  // Body too large for a proxy, or a registry that only takes chunks: the caller switches to PATCH.
  if ([405, 411, 413, 501].includes(res.status)) {
    await res.body.dump();
    return 'refused';
  }
  throw await transport.failure(res, ctx);
}

/**
 * Sends the blob as a series of PATCH requests of `chunkSize` bytes with Content-Range, then closes the
 * session with an empty PUT. Each chunk streams from the source; nothing is buffered beyond the chunk split.
 */
export async function putBlobChunked(
  transport: Transport,
  repository: string,
  location: string,
  blob: Descriptor,
  body: AsyncIterable<Buffer>,
  chunkSize: number,
  scope: RequestScope,
): Promise<void> {
  const ctx = { host: transport.host, repository, digest: blob.digest, action: 'upload blob chunk to' };
  const source = new ChunkSplitter(body[Symbol.asyncIterator]());
  let offset = 0;
  let current = location;
  while (offset < blob.size) {
    const length = Math.min(chunkSize, blob.size - offset);
    const res = await transport.send({
      method: 'PATCH',
      path: current,
      headers: {
        'content-type': 'application/octet-stream',
        'content-length': String(length),
        'content-range': `${offset}-${offset + length - 1}`,
      },
      body: source.take(length),
      context: ctx,
      ...scope,
    });
    if (res.status !== 202) throw await transport.failure(res, ctx);
    await res.body.dump();
    const next = header(res, 'location');
    if (next) current = new URL(next, res.url).toString();
    offset += length;
  }
  // Drain the verifier so a digest mismatch surfaces before the session is committed.
  await source.finish();
  const res = await transport.send({
    method: 'PUT',
    path: withDigest(current, blob.digest),
    headers: { 'content-length': '0' },
    body: Buffer.alloc(0),
    context: { ...ctx, action: 'finish upload on' },
    stream: true,
    ...scope,
  });
  if (res.status !== 201 && res.status !== 204) throw await transport.failure(res, ctx);
  await res.body.dump();
}

/** Cancels an upload session; best effort, since the session may already be gone. */
export async function cancelUpload(
  transport: Transport,
  repository: string,
  location: string,
  scope: RequestScope,
): Promise<void> {
  try {
    const res = await transport.send({
      method: 'DELETE',
      path: location,
      context: { host: transport.host, repository, action: 'cancel upload on' },
      ...scope,
    });
    await res.body.dump();
  } catch {
    // A session we cannot cancel expires on the registry's side.
  }
}

/** Hands out consecutive byte ranges of one stream as separate streams, splitting chunks at the boundaries. */
class ChunkSplitter {
  private leftover: Buffer | undefined;

  constructor(private readonly iterator: AsyncIterator<Buffer>) {}

  async *take(length: number): AsyncGenerator<Buffer> {
    let remaining = length;
    while (remaining > 0) {
      let chunk = this.leftover;
      this.leftover = undefined;
      if (!chunk) {
        const next = await this.iterator.next();
        if (next.done) throw new Error(`source ended ${remaining} bytes early`);
        chunk = next.value;
      }
      if (chunk.length > remaining) {
        this.leftover = chunk.subarray(remaining);
        chunk = chunk.subarray(0, remaining);
      }
      remaining -= chunk.length;
      yield chunk;
    }
  }

  async finish(): Promise<void> {
    const next = await this.iterator.next();
    if (!next.done || this.leftover) throw new Error('source has more bytes than the blob size');
  }
}
