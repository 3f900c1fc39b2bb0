// Owns the per-tenant request rate limit: SWR documents 20 QPS per tenant, with 503 for the excess.
// A sliding one-second window over the requests that were let through, so no 1 s span ever holds
// more than the limit, and a client that backs off for a second gets in again.

export class RateLimit {
  private readonly accepted: number[] = []; // times (ms) of let-through requests, oldest first

  constructor(private readonly limit: () => number) {}

  /** true = let the request through (and count it); false = answer 503. */
  admit(now = Date.now()): boolean {
    const limit = this.limit();
    if (limit <= 0) return true;
    while (this.accepted.length > 0 && this.accepted[0] <= now - 1000) this.accepted.shift();
    if (this.accepted.length >= limit) return false;
    this.accepted.push(now);
    return true;
  }
}
