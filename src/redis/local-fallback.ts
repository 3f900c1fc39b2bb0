// Owns when a limiter shared through Redis paces this replica on its own instead: Redis not connected, or not
// answering in time, sends it local for a while before Redis is asked again. Each switch is reported once; the
// local bucket lives only while local, since the shared state has moved on by the next time.
import type { Redis } from 'ioredis';

export type LimiterMode = 'shared' | 'local';

export interface LocalFallbackOptions<B> {
  /** How long to pace locally before asking Redis again. */
  retryRedisAfterMs: number;
  now: () => number;
  /** This replica's own bucket, at its share of the quota. */
  makeBucket: () => B;
  /** What the service log says on going local (after the reason) and on sharing again. */
  describe: { local: string; shared: string };
  onModeChange?: (mode: LimiterMode, message: string) => void;
}

export class LocalFallback<B> {
  private current: LimiterMode = 'shared';
  private localUntil = 0;
  private own: B | undefined;

  constructor(
    private readonly client: Redis,
    private readonly options: LocalFallbackOptions<B>,
  ) {}

  get mode(): LimiterMode {
    return this.current;
  }

  /** The local bucket, once local pacing has made one (none while shared). */
  get bucket(): B | undefined {
    return this.own;
  }

  /** Whether to ask Redis now: it is connected, and the wait after its last failure is over. */
  redisUsable(): boolean {
    if (this.client.status !== 'ready') {
      this.goLocal(`Redis connection is ${this.client.status}`);
      return false;
    }
    return this.options.now() >= this.localUntil;
  }

  /** Redis answered: back to sharing. */
  answered(): void {
    if (this.current === 'shared') return;
    this.current = 'shared';
    this.own = undefined;
    this.options.onModeChange?.('shared', this.options.describe.shared);
  }

  /** Redis could not be asked: local pacing, and no question to Redis for a while. */
  goLocal(reason: string): void {
    this.localUntil = this.options.now() + this.options.retryRedisAfterMs;
    if (this.current === 'local') return;
    this.current = 'local';
    this.options.onModeChange?.('local', `${reason}; ${this.options.describe.local}`);
  }

  localBucket(): B {
    this.own ??= this.options.makeBucket();
    return this.own;
  }
}
