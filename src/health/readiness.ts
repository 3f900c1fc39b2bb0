// Owns the verdict behind /readyz: the job store takes a write, the configuration is valid, and Harbor and
// the destination answered recently (or answer a ping now). Says which check failed and what to do about it.
import { systemClock, type Clock } from '../oci/clock.js';
import { pingRegistry, type RegistryEndpoint } from './registry-ping.js';
import type { RegistryActivity } from './registry-activity.js';

export interface CheckResult {
  ok: boolean;
  message: string;
  /** What an operator can do about a failed check. */
  action?: string;
}

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, CheckResult>;
}

export interface RegistryTarget {
  /** The check's name in the report: `harbor`, `destination`. */
  name: string;
  endpoint: RegistryEndpoint;
  /** What to do when it does not answer. */
  action: string;
}

export interface ReadinessOptions {
  /** Throws when the job store cannot be written. */
  probeStore: () => Promise<void>;
  storeAction: string;
  /** Where the configuration came from; it was checked before the service started. */
  configSource: string;
  registries: RegistryTarget[];
  activity: RegistryActivity;
  /** Traffic this recent vouches for a registry without pinging it. */
  recentMs?: number;
  /** A ping's answer stands this long, so probes every few seconds do not each reach the registries. */
  pingCacheMs?: number;
  /**
   * The store check's answer stands this long. Its write is durable (an fsync with SQLite) and runs on the event
   * loop the webhooks are answered on: however often /readyz is asked, it costs at most one write per window.
   */
  storeCacheMs?: number;
  /** Kept short so that a probe answers within its own timeout (set the probe's timeoutSeconds above it). */
  pingTimeoutMs?: number;
  /** The time the checks are judged at; the activity's own clock should be the same one. */
  clock?: Clock;
}

export class Readiness {
  private readonly recentMs: number;
  private readonly pingCacheMs: number;
  private readonly pingTimeoutMs: number;
  private readonly storeCacheMs: number;
  private readonly clock: Clock;
  /** The last store check: when it started, its result, and the check itself while it runs (probes join it). */
  private store: { at: number; result: Promise<CheckResult> } | undefined;
  /** The last ping of each host: when it started, and the ping itself while it runs (probes arriving meanwhile join it). */
  private readonly pings = new Map<string, { at: number; running?: Promise<void> }>();

  /** Checks added by the service once its parts exist (which Harbor API answers); one named like a registry check joins it. */
  private readonly added: Array<{ name: string; check: () => Promise<CheckResult> }> = [];

  constructor(private readonly options: ReadinessOptions) {
    this.recentMs = options.recentMs ?? 5 * 60_000;
    this.pingCacheMs = options.pingCacheMs ?? 30_000;
    this.pingTimeoutMs = options.pingTimeoutMs ?? 3_000;
    this.storeCacheMs = options.storeCacheMs ?? 5_000;
    this.clock = options.clock ?? systemClock;
  }

  addCheck(name: string, check: () => Promise<CheckResult>): void {
    this.added.push({ name, check });
  }

  async check(): Promise<ReadinessReport> {
    const registries = await Promise.all(
      this.options.registries.map(async (target) => [target.name, await this.registryCheck(target)] as const),
    );
    const added = await Promise.all(this.added.map(async ({ name, check }) => [name, await check()] as const));
    const checks: Record<string, CheckResult> = {
      store: await this.storeCheck(),
      config: { ok: true, message: `loaded from ${this.options.configSource} and valid` },
      ...Object.fromEntries(registries),
    };
    for (const [name, result] of added) checks[name] = checks[name] ? joined(checks[name], result) : result;
    return { ready: Object.values(checks).every((c) => c.ok), checks };
  }

  private storeCheck(): Promise<CheckResult> {
    const now = this.clock.now();
    if (!this.store || now - this.store.at >= this.storeCacheMs) {
      this.store = { at: now, result: this.probeStore() };
    }
    return this.store.result;
  }

  private async probeStore(): Promise<CheckResult> {
    try {
      await this.options.probeStore();
      return { ok: true, message: 'the job store takes writes' };
    } catch (error) {
      return {
        ok: false,
        message: `the job store cannot be written: ${(error as Error).message}`,
        action: this.options.storeAction,
      };
    }
  }

  private async registryCheck(target: RegistryTarget): Promise<CheckResult> {
    const { activity } = this.options;
    const { host } = target.endpoint;
    if (!activity.answeredRecently(host, this.recentMs)) await this.pingAtMostEveryCacheMs(target.endpoint);
    const heard = activity.get(host);
    if (activity.answeredRecently(host, this.recentMs)) {
      return {
        ok: true,
        message: `${host} answered ${Math.round((this.clock.now() - heard.answeredAt!) / 1000)} s ago`,
      };
    }
    return { ok: false, message: heard.failure ?? `${host} has not answered`, action: target.action };
  }

  private pingAtMostEveryCacheMs(endpoint: RegistryEndpoint): Promise<void> {
    const last = this.pings.get(endpoint.host);
    if (last?.running) return last.running;
    if (last && this.clock.now() - last.at < this.pingCacheMs) return Promise.resolve();
    const running = pingRegistry(endpoint, this.pingTimeoutMs).then((result) => {
      if (result.answered) this.options.activity.answered(endpoint.host);
      else this.options.activity.failed(endpoint.host, result.reason);
    });
    const entry: { at: number; running?: Promise<void> } = { at: this.clock.now(), running };
    this.pings.set(endpoint.host, entry);
    return running.finally(() => delete entry.running);
  }
}

/** Two checks of one thing (Harbor answers; its API is usable) as one: failed if either failed. */
function joined(a: CheckResult, b: CheckResult): CheckResult {
  if (a.ok && b.ok) return { ok: true, message: `${a.message}; ${b.message}` };
  const failed = [a, b].filter((c) => !c.ok);
  return {
    ok: false,
    message: failed.map((c) => c.message).join('; '),
    action:
      failed
        .map((c) => c.action)
        .filter(Boolean)
        .join('; ') || undefined,
  };
}
