// A streamed request body whose first chunk has already arrived. undici writes a request's head together with
// its first body chunk, so a streamed PUT reaches the registry only once the source has produced bytes; a paced
// request must not take its grant before that, or it lands in a later second than the one it was counted in.

/** Waits for the first chunk of `body`, then returns an iterable that yields it and the rest. */
export async function primeBody(body: AsyncIterable<Uint8Array>): Promise<AsyncIterable<Uint8Array>> {
  const iterator = body[Symbol.asyncIterator]();
  const first = await iterator.next();
  return {
    async *[Symbol.asyncIterator]() {
      try {
        if (first.done) return;
        yield first.value;
        for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
      } finally {
        // A request that ends early (refused, cancelled) stops the source too, as a for-await over it would.
        await iterator.return?.();
      }
    },
  };
}
