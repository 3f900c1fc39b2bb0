// Bounded reads of a peer's response bodies: every body read into memory has a byte cap and a deadline,
// and is destroyed at the cap instead of being drained, so an endless or stalled answer costs neither memory nor time.
import { RegistryError, type ErrorContext } from './errors.js';

/** Byte caps on what a peer may send us to hold in memory. */
export const BODY_LIMITS = {
  token: 64 * 1024,
  error: 64 * 1024,
  /** One page of tags/list or _catalog: 100,000 names of up to 160 bytes fit. */
  listing: 16 * 1024 * 1024,
  /** Distribution refuses manifests over 4 MiB, so anything larger is not a manifest. */
  manifest: 4 * 1024 * 1024,
  referrers: 4 * 1024 * 1024,
} as const;

interface DestroyableBody extends AsyncIterable<Uint8Array> {
  destroy(error?: Error): unknown;
}

export class BodyDeadlineError extends Error {
  constructor(readonly ms: number) {
    super(`no complete answer within ${Math.round(ms / 1000)} s`);
    this.name = 'BodyDeadlineError';
  }
}

/**
 * Reads at most `limit` bytes within `deadlineMs`. Past the cap the body is destroyed and what fits is returned
 * with `truncated`; past the deadline (or the request's abort signal) the read fails with the reason.
 */
export async function readUpTo(
  body: DestroyableBody,
  limit: number,
  deadlineMs: number,
): Promise<{ bytes: Buffer; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let length = 0;
  let truncated = false;
  const timer = setTimeout(() => body.destroy(new BodyDeadlineError(deadlineMs)), deadlineMs);
  try {
    for await (const chunk of body) {
      const room = limit - length;
      if (chunk.length > room) {
        if (room > 0) chunks.push(Buffer.from(chunk.subarray(0, room))); // a copy: the rest of the chunk is dropped
        length = limit;
        truncated = true;
        break; // leaving the loop destroys the body: nothing more is read from the socket
      }
      // A copy: undici's chunks may be views of larger socket buffers, which would then all stay alive.
      chunks.push(Buffer.from(chunk));
      length += chunk.length;
    }
  } finally {
    clearTimeout(timer);
  }
  if (truncated) body.destroy();
  return { bytes: Buffer.concat(chunks, length), truncated };
}

/** Whether a failure is a deadline: ours, undici's header/body timeouts, or an aborted request signal. */
export function isDeadline(error: unknown): boolean {
  const e = error as { name?: string; code?: string } | undefined;
  return (
    e instanceof BodyDeadlineError ||
    e?.name === 'TimeoutError' ||
    e?.name === 'AbortError' ||
    e?.code === 'UND_ERR_HEADERS_TIMEOUT' ||
    e?.code === 'UND_ERR_BODY_TIMEOUT' ||
    e?.code === 'UND_ERR_ABORTED'
  );
}

/** Reads a body that must fit whole (JSON answers, manifests): over the cap or past the deadline is an error. */
export async function readWhole(
  body: DestroyableBody,
  limit: number,
  deadlineMs: number,
  ctx: ErrorContext,
  what: string,
): Promise<Buffer> {
  let result: { bytes: Buffer; truncated: boolean };
  try {
    result = await readUpTo(body, limit, deadlineMs);
  } catch (error) {
    throw readFailure(error, ctx, what, deadlineMs);
  }
  if (result.truncated) {
    throw new RegistryError({
      code: 'BODY_TOO_LARGE',
      status: 200,
      host: ctx.host,
      repository: ctx.repository,
      message: `${ctx.action} ${ctx.host} failed: its ${what} is over ${limit} bytes, more than any genuine answer; reading stopped there`,
      hint: `check that ${ctx.host} is the registry it should be, or what sits in front of it`,
    });
  }
  return result.bytes;
}

/** A body read that broke off: a deadline (retryable, the peer may be slow) or a dropped connection. */
export function readFailure(error: unknown, ctx: ErrorContext, what: string, deadlineMs: number): RegistryError {
  if (error instanceof RegistryError) return error;
  const deadline = isDeadline(error);
  return new RegistryError({
    code: deadline ? 'TIMEOUT' : 'NETWORK',
    status: 0,
    host: ctx.host,
    repository: ctx.repository,
    digest: ctx.digest,
    reference: ctx.reference,
    message: deadline
      ? `${ctx.action} ${ctx.host} failed: its ${what} did not arrive complete within ${Math.round(deadlineMs / 1000)} s`
      : `${ctx.action} ${ctx.host} failed while reading its ${what}: ${(error as Error)?.message ?? String(error)}`,
    hint: `check that ${ctx.host} is healthy and reachable; it was or will be retried`,
    retryable: true,
    cause: error,
  });
}

/**
 * At most `limit` bytes of a fetch Response's body (a web stream); past it the stream is cancelled, so nothing
 * more is read from the socket. The time limit is the caller's: the fetch's own abort signal.
 */
export async function readResponseUpTo(res: Response, limit: number): Promise<{ text: string; truncated: boolean }> {
  if (!res.body) return { text: '', truncated: false };
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let length = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (length + value.length > limit) {
      chunks.push(value.subarray(0, limit - length));
      length = limit;
      await reader.cancel().catch(() => undefined);
      return { text: Buffer.concat(chunks, length).toString('utf8'), truncated: true };
    }
    chunks.push(value);
    length += value.length;
  }
  return { text: Buffer.concat(chunks, length).toString('utf8'), truncated: false };
}
