// Owns counters that follow a total kept elsewhere (a limiter's, a queue's): read at scrape time, so nothing is
// counted twice and the source needs no knowledge of Prometheus.
import { Counter, type Registry } from 'prom-client';

/** A counter that, at each scrape, adds what `read()` grew by since the last one (a total that restarts adds nothing). */
export function followingCounter(registry: Registry, name: string, help: string, read: () => number): void {
  let seen = 0;
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      const now = read();
      this.inc(Math.max(0, now - seen));
      seen = now;
    },
  });
}
