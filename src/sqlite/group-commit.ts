// Group commit for the writes a caller must see durable before it answers (webhook intake): writes asked for
// in the same turn of the event loop, or while the previous group's commit blocked it, share one transaction,
// so one fsync (synchronous=FULL) covers them all instead of one per webhook.
import type Database from 'better-sqlite3';

interface Waiting {
  write: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** How many groups committed and how many writes they held: the observable proof of fewer fsyncs. */
export interface GroupCommitStats {
  commits: number;
  writes: number;
}

export class GroupCommit {
  readonly stats: GroupCommitStats = { commits: 0, writes: 0 };
  private waiting: Waiting[] = [];
  private scheduled = false;

  constructor(private readonly db: Database.Database) {}

  /**
   * Runs `write` inside the next group's transaction and resolves with its result only once that transaction
   * has committed. Writes run one after another in arrival order, so a later write sees an earlier one of the
   * same group (a duplicate joins the job its predecessor just inserted). A write that throws is rolled back
   * alone (a savepoint) and rejects alone; a commit that fails rejects the whole group.
   */
  run<T>(write: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({ write, resolve: resolve as (value: unknown) => void, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      // setImmediate, not a microtask: every request whose body arrived in this poll phase joins the group.
      setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    this.scheduled = false;
    const group = this.waiting;
    this.waiting = [];
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    try {
      this.db.transaction(() => {
        for (const { write } of group) {
          try {
            // A nested better-sqlite3 transaction is a savepoint: a failing write undoes only itself.
            outcomes.push({ ok: true, value: this.db.transaction(write)() });
          } catch (error) {
            outcomes.push({ ok: false, error });
          }
        }
      })();
    } catch (error) {
      for (const { reject } of group) reject(error);
      return;
    }
    this.stats.commits++;
    this.stats.writes += group.length;
    group.forEach(({ resolve, reject }, i) => {
      const outcome = outcomes[i];
      if (outcome.ok) resolve(outcome.value);
      else reject(outcome.error);
    });
  }
}
