// Per-registry request pacing: a token bucket, plus a shared pause when the registry says it is overloaded.

export class TokenBucket {
  private tokens: number;
  private last = Date.now();
  private pausedUntil = 0;
  private readonly waiters: Array<() => void> = [];
  private timer: NodeJS.Timeout | undefined;

  /** `perSecond` of 0 or less means unlimited. */
  constructor(
    private readonly perSecond: number,
    private readonly burst: number = Math.max(1, Math.ceil(perSecond)),
  ) {
    this.tokens = this.burst;
  }

  /** Resolves when this request may go out. FIFO, so a large backlog cannot starve an early caller. */
  take(): Promise<void> {
    if (this.perSecond <= 0 && Date.now() >= this.pausedUntil) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.drain();
    });
  }

  /**
   * A 429 or 503 from the registry means every request to it should hold back, not only the one that got
   * the answer: SWR counts requests per tenant, so retrying others at full speed would only prolong the storm.
   */
  pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, Date.now() + ms);
  }

  private refill(now: number): void {
    if (this.perSecond <= 0) {
      this.tokens = Number.POSITIVE_INFINITY;
      return;
    }
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
  }

  private drain(): void {
    if (this.timer) return;
    const now = Date.now();
    if (now < this.pausedUntil) {
      this.schedule(this.pausedUntil - now);
      return;
    }
    this.refill(now);
    while (this.waiters.length > 0 && this.tokens >= 1) {
      this.tokens -= 1;
      this.waiters.shift()!();
    }
    if (this.waiters.length > 0) this.schedule(Math.ceil(((1 - this.tokens) / this.perSecond) * 1000));
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.drain();
    }, Math.max(1, ms));
    this.timer.unref?.();
  }
}
