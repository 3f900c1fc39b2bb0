// Per-registry request pacing: a token bucket whose rate backs off when the registry says it is overloaded
// (429, or 503 as SWR answers past 20 requests per second) and creeps back up while requests succeed.

/** What the transport needs from request pacing: this process's TokenBucket, or one shared with other processes. */
export interface RequestPacer {
  /** Resolves when the next request may go out. */
  take(): Promise<void>;
  /** The registry pushed back (429/503): hold back for `pauseMs` and lower the rate. */
  slowDown(pauseMs: number): void;
  /** A request succeeded: the rate may creep back up. */
  succeeded(): void;
  readonly currentRate: number;
}

/** Ceiling for an "unlimited" bucket that has been slowed down and is recovering. */
const UNLIMITED_RECOVERY_CEILING = 1000;
/**
 * The grant log's window: a second as the registry counts it, plus a margin for the time between a grant here and
 * the request's arrival there. Without the log, a full bucket plus a second's refill let rate + burst requests
 * into one second, and SWR answers 503 past 20.
 */
const WINDOW_MS = 1050;

export class TokenBucket implements RequestPacer {
  private tokens: number;
  private last = Date.now();
  private pausedUntil = 0;
  private readonly waiters: Array<() => void> = [];
  /** When the grants of the last window were made, oldest first. */
  private readonly grants: number[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** The rate in force: the configured one, or less after the registry pushed back. 0 = unlimited. */
  private rate: number;
  private lastSlowDown = Number.NEGATIVE_INFINITY;
  private windowStart = Date.now();
  private windowCount = 0;
  private previousWindowCount = 0;

  /** `perSecond` of 0 or less means unlimited. */
  constructor(
    private readonly perSecond: number,
    private readonly burst: number = Math.max(1, Math.ceil(perSecond)),
  ) {
    this.rate = Math.max(0, perSecond);
    this.tokens = this.burst;
  }

  get currentRate(): number {
    return this.rate;
  }

  /** Resolves when this request may go out. FIFO, so a large backlog cannot starve an early caller. */
  take(): Promise<void> {
    this.count();
    if (this.rate <= 0 && Date.now() >= this.pausedUntil) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.drain();
    });
  }

  /**
   * A 429 or 503 means every request to this registry should hold back, not only the one that got the answer
   * (SWR counts requests per tenant): pause briefly, and halve the rate below what was just being sent.
   */
  slowDown(pauseMs: number): void {
    const now = Date.now();
    this.pausedUntil = Math.max(this.pausedUntil, now + pauseMs);
    // Answers to requests already in flight report the same overload: halve once per second, not once per answer.
    if (now - this.lastSlowDown < 1000) return;
    this.lastSlowDown = now;
    const sent = Math.max(this.previousWindowCount, this.windowCount);
    const from = this.rate > 0 ? Math.min(this.rate, Math.max(sent, 1)) : Math.max(sent, 1);
    this.rate = Math.max(1, from / 2);
    this.tokens = Math.min(this.tokens, 1);
  }

  /** Each success earns back about one request per second per second, up to the configured rate. */
  succeeded(): void {
    const ceiling = this.perSecond > 0 ? this.perSecond : UNLIMITED_RECOVERY_CEILING;
    if (this.rate <= 0 || this.rate >= ceiling) return;
    this.rate += 1 / this.rate;
    if (this.rate >= ceiling) this.rate = this.perSecond > 0 ? this.perSecond : 0;
  }

  private count(): void {
    const now = Date.now();
    if (now - this.windowStart >= 1000) {
      this.previousWindowCount = now - this.windowStart < 2000 ? this.windowCount : 0;
      this.windowStart = now;
      this.windowCount = 0;
    }
    this.windowCount++;
  }

  private refill(now: number): void {
    if (this.rate <= 0) {
      this.tokens = Number.POSITIVE_INFINITY;
      return;
    }
    const capacity = Math.max(1, Math.min(this.burst, Math.ceil(this.rate)));
    this.tokens = Math.min(
      capacity,
      (Number.isFinite(this.tokens) ? this.tokens : capacity) + ((now - this.last) / 1000) * this.rate,
    );
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
    while (this.grants.length > 0 && this.grants[0] <= now - WINDOW_MS) this.grants.shift();
    // The bucket spaces requests out; the log caps any window at the rate, whatever the bucket holds.
    const cap = this.rate > 0 ? Math.max(1, Math.floor(this.rate)) : Number.POSITIVE_INFINITY;
    while (this.waiters.length > 0 && this.tokens >= 1 && this.grants.length < cap) {
      this.tokens -= 1;
      if (this.rate > 0) this.grants.push(now);
      this.waiters.shift()!();
    }
    if (this.waiters.length === 0) return;
    const bucketWait = this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) / this.rate) * 1000);
    const windowWait = this.grants.length >= cap ? this.grants[0] + WINDOW_MS - now : 0;
    this.schedule(Math.max(bucketWait, windowWait));
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.drain();
      },
      Math.max(1, ms),
    );
    this.timer.unref?.();
  }
}
