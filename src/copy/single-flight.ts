// Keyed in-flight work: the first caller for a key does it, later callers wait for it to finish.

export class SingleFlight {
  private readonly inflight = new Map<string, Promise<unknown>>();

  /**
   * Runs `work` unless work for `key` is already running; then waits for that instead and returns
   * `undefined`, so the caller re-checks what the first one achieved (it may have failed).
   */
  async run<T>(key: string, work: () => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }> {
    const running = this.inflight.get(key);
    if (running) {
      await running.catch(() => undefined);
      return { ran: false };
    }
    const promise = work();
    this.inflight.set(key, promise);
    try {
      return { ran: true, value: await promise };
    } finally {
      this.inflight.delete(key);
    }
  }
}
