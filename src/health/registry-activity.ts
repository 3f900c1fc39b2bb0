// Owns what was last heard from each registry host: when it last answered and whether it has failed to
// since, fed by the transports' observer and by readiness pings; what /readyz judges the registries by.
import { systemClock, type Clock } from '../oci/clock.js';

export interface HostActivity {
  /** Last time the host answered (any status below 500). */
  answeredAt?: number;
  /** Set while the latest exchange failed (no answer, or a 5xx), with why; an answer clears it. */
  failedAt?: number;
  failure?: string;
}

export class RegistryActivity {
  private readonly hosts = new Map<string, HostActivity>();

  constructor(private readonly clock: Clock = systemClock) {}

  answered(host: string): void {
    // Ordered by arrival rather than by timestamp: a failure and the answer to its retry can share a millisecond.
    this.hosts.set(host, { answeredAt: this.clock.now() });
  }

  failed(host: string, reason: string): void {
    this.hosts.set(host, { ...this.hosts.get(host), failedAt: this.clock.now(), failure: reason });
  }

  get(host: string): HostActivity {
    return { ...this.hosts.get(host) };
  }

  /** Answered within `windowMs`, and nothing has failed since. */
  answeredRecently(host: string, windowMs: number): boolean {
    const { answeredAt, failedAt } = this.get(host);
    return answeredAt !== undefined && failedAt === undefined && this.clock.now() - answeredAt <= windowMs;
  }
}
