// Blob reads: existence checks and streaming GETs that pick up where they left off when a connection drops.
import { RegistryError } from './errors.js';
import { blobPath } from './paths.js';
import type { RequestScope } from './manifests.js';
import { HttpRetryPolicy } from './retry.js';
import { header, type Transport } from './transport.js';
import type { Descriptor } from './types.js';

export async function headBlob(
  transport: Transport,
  repository: string,
  digest: string,
  scope: RequestScope,
): Promise<boolean> {
  const ctx = { host: transport.host, repository, digest, action: 'check blob on' };
  const res = await transport.send({
    method: 'HEAD',
    path: blobPath(transport.host, repository, digest),
    context: ctx,
    ...scope,
  });
  await res.body.dump();
  if (res.status === 200) return true;
  if (res.status === 404) return false;
  throw await transport.failure(res, ctx);
}

export interface ReadBlobOptions extends RequestScope {
  /** How many times a dropped download may be resumed with a Range request (the retries of its policy). */
  maxResumes?: number;
  /** Told each time a download is resumed (for progress and retry counts). */
  onResume?: (offset: number, error: unknown) => void;
}

/**
 * Streams a blob's bytes. When the connection drops part way, the download continues from the last byte
 * received with `Range`, so a reset on a multi-gigabyte layer costs a reconnect, not a restart.
 * The bytes are not checked here; wrap the stream in `verifyStream`.
 */
export async function* readBlob(
  transport: Transport,
  repository: string,
  blob: Descriptor,
  options: ReadBlobOptions,
): AsyncGenerator<Buffer> {
  const ctx = { host: transport.host, repository, digest: blob.digest, action: 'download blob from' };
  // Resumes wait as the default policy says, whatever retries the transport allows a single request.
  const policy = new HttpRetryPolicy({ retries: options.maxResumes });
  const { signal } = options;
  let offset = 0;
  for (let resumes = 0; ; resumes++) {
    let skip = 0;
    try {
      const headers: Record<string, string> = offset > 0 ? { range: `bytes=${offset}-` } : {};
      const res = await transport.expect(
        {
          method: 'GET',
          path: blobPath(transport.host, repository, blob.digest),
          headers,
          context: ctx,
          scopes: options.scopes,
          counters: options.counters,
          signal,
          stream: true,
        },
        offset > 0 ? [200, 206] : [200],
      );
      if (offset > 0 && res.status === 206) {
        const range = /^bytes (\d+)-/.exec(header(res, 'content-range') ?? '');
        if (!range || Number(range[1]) !== offset) {
          res.body.destroy();
          throw new RegistryError({
            code: 'RANGE_INVALID',
            status: 206,
            host: transport.host,
            repository,
            digest: blob.digest,
            message: `${transport.host} resumed ${blob.digest} at the wrong offset`,
          });
        }
      } else if (offset > 0) {
        // The server ignored Range and sent everything again: drop what we already passed on.
        skip = offset;
      }
      for await (const raw of res.body) {
        let chunk = raw as Buffer;
        if (skip > 0) {
          const drop = Math.min(skip, chunk.length);
          skip -= drop;
          chunk = chunk.subarray(drop);
          if (chunk.length === 0) continue;
        }
        offset += chunk.length;
        yield chunk;
      }
      if (offset >= blob.size) return;
      throw new Error(`connection closed after ${offset} of ${blob.size} bytes`);
    } catch (error) {
      signal?.throwIfAborted();
      const decision = policy.decide(resumes + 1, { error });
      if (!decision.retry) {
        throw error instanceof RegistryError
          ? error
          : new RegistryError({
              code: 'NETWORK',
              status: 0,
              host: transport.host,
              repository,
              digest: blob.digest,
              message: `download of ${blob.digest} from ${transport.host}/${repository} kept failing after ${resumes} resumes: ${(error as Error).message}`,
              retryable: true,
              cause: error,
            });
      }
      options.onResume?.(offset, error);
      if (options.counters) options.counters.retries++;
      await transport.clock.sleep(decision.delayMs, signal);
    }
  }
}
