// Composition root of the service, the top of the import graph: configuration -> logs -> job store -> engine ->
// runner -> HTTP. Also the orderly stop: no new requests, running jobs get a grace period, the rest resume next start.
import type { AddressInfo } from 'node:net';
import { SECRET_KEYS, type Config } from '../config/config.js';
import { CopyEngine } from '../copy/index.js';
import { createApp } from '../http/app.js';
import { createFrontDoorServer, logAcceptErrors } from '../http/front-door.js';
import { openBackend } from './backend.js';
import { createLogs, type Logs } from '../logging/logs.js';
import { countBandwidth } from '../metrics/bandwidth-metrics.js';
import { timedJobs } from '../metrics/job-timing.js';
import { scrubbedJobs } from '../jobs/scrubbed-handler.js';
import { createMonitoring } from './monitoring.js';
import { announceHarbor, harborApiCheck } from '../health/harbor-api.js';
import { Redactor } from '../logging/redact.js';
import { copyEngineOptions } from '../service/clients.js';
import { proxyRouteChecks } from '../service/proxy-routes.js';
import { configuredCredentials, destinationSecrets } from '../service/contexts.js';
import { resolvePendingPushes } from '../sync/pending-pushes.js';
import type { ReconcileSummary } from '../sync/reconcile.js';
import { SyncService } from '../service/sync-service.js';
import { withoutKeysWarning } from '../swr/account-keys.js';
import { keyPrefix } from '../config/destinations.js';

export interface RunningService {
  url: string;
  port: number;
  service: SyncService;
  /** The service's log (running.log and the console): for what its owner says, such as a signal received. */
  log: Pick<Logs['service'], 'info' | 'warn' | 'error'>;
  /** Runs a reconcile sweep now, or joins the one already running (one at a time); undefined once closed. */
  reconcile(): Promise<ReconcileSummary | undefined>;
  /** Stops taking requests and jobs; waits up to the grace period for running jobs. */
  close(graceMs?: number): Promise<void>;
}

export async function startService(config: Config, options: { console?: boolean } = {}): Promise<RunningService> {
  const redactor = new Redactor();
  redactor.add(
    config.hw.sk,
    config.hw.password,
    config.harbor.password,
    config.swr.password,
    config.webhookAuthHeader,
    config.apiToken,
  );
  redactor.add(...configuredCredentials(config).secrets, ...destinationSecrets(config), ...config.proxy.secrets);
  const logs = createLogs(config.logDir, redactor, {
    console: options.console,
    format: config.logFormat,
    rotation: config.logRotation,
  });
  const log = logs.service;
  log.info(
    `starting: config from ${config.source}; Harbor ${config.harbor.protocol}://${config.harbor.address}; destination ${config.destinations.map((d) => `${d.swr.protocol}://${d.host}${d.name === 'default' ? '' : ` (${d.name})`}`).join(', ')}; ${config.namespaceMap.size} mapped project(s); secrets (${SECRET_KEYS.join(', ')}) are never logged`,
  );
  // Behind a proxy, the route of each endpoint once, so that an operator sees the setting took effect.
  if (config.proxy.any) for (const route of proxyRouteChecks(config)) log.info(`${route.what}: ${route.detail}`);
  if (!config.webhookAuthHeader)
    log.warn('WebhookAuthHeader is not set: anyone who can reach this port can post webhooks');
  if (config.harbor.skipTlsVerify)
    log.warn("HarborInsecure=true: Harbor's TLS certificate is not verified; prefer HarborCACert with your CA");
  // Another region's keys are the default's: warned about once, with the default destination.
  for (const { name, swr, hw } of config.destinations.filter((d) => d.name === 'default' || keyPrefix(d))) {
    const key = keyPrefix({ name });
    if (swr.skipTlsVerify)
      log.warn(
        `${key}SWRInsecure=true: the destination's TLS certificate is not verified; prefer ${key}SWRCACert with your CA`,
      );
    const withoutKeys = withoutKeysWarning(hw, Boolean(swr.user), swr.manageNamespaces);
    if (withoutKeys) log.warn(name === 'default' ? withoutKeys : `destination ${name}: ${withoutKeys}`);
  }
  if (config.queue.backend === 'sqlite' && config.queue.redisUrl)
    log.warn(
      'RedisURL is set but QueueBackend=sqlite: Redis is not used; set QueueBackend=redis to share jobs between replicas',
    );
  if (!config.apiToken)
    log.warn('ApiToken is not set: the sync API and the manual sync call are open to anyone who can reach this port');

  const backend = await openBackend(config, log);
  redactor.add(...backend.secrets);
  log.info(`jobs, blob locations and pacing: ${backend.describe}`);
  const { queue } = backend;
  const engine = new CopyEngine(copyEngineOptions(config), backend.locations, {
    claims: backend.claims,
    slots: backend.slots,
    bandwidth: backend.bandwidth,
  });
  const monitoring = createMonitoring(config, queue, engine.events);
  if (backend.bandwidth) countBandwidth(backend.bandwidth, monitoring.metrics);
  const service = new SyncService(config, queue, engine, logs, log, redactor, {
    observer: monitoring.observer,
    pacer: backend.pacer,
    written: backend.written,
  });
  monitoring.readiness.addCheck('harbor', () => harborApiCheck(service.harbor));
  announceHarbor(service.harbor, log);

  const app = createApp(service, log, redactor, monitoring);
  const server = createFrontDoorServer(app, { maxConnectionsPerClient: config.maxConnectionsPerClient }, log);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.listenAddress, () => {
      server.off('error', reject);
      resolve();
    });
  });
  logAcceptErrors(server, log);
  const port = (server.address() as AddressInfo).port;
  log.info(`listening on ${config.listenAddress}:${port}`);

  let resolving = false;
  const pending = setInterval(
    () => {
      if (resolving) return;
      resolving = true;
      resolvePendingPushes(
        queue,
        service.harbor,
        (push) => service.targetsOf(push.project, push.namespace),
        config.jobs.coalesceMs,
        log,
      )
        .catch((error: Error) => log.error(`resolving untagged pushes failed: ${error.message}`))
        .finally(() => (resolving = false));
    },
    Math.max(200, Math.min(1000, config.jobs.coalesceMs)),
  );
  pending.unref();
  await queue.start({
    handler: timedJobs(
      scrubbedJobs(service.runJob, (text) => redactor.redact(text)),
      monitoring.metrics,
    ),
    onSettled: service.settled,
  });

  // The reconcile sweep: one at a time; a tick that finds one running lets it be.
  const stopping = new AbortController();
  let sweep: Promise<ReconcileSummary | undefined> | undefined;
  const reconcileNow = (why: string, atMostEveryMs?: number): Promise<ReconcileSummary | undefined> => {
    if (sweep) return sweep;
    if (stopping.signal.aborted) return Promise.resolve(undefined);
    sweep = backend
      .exclusive(
        'reconcile',
        (lease) => {
          log.info(`reconcile sweep started (${why})`);
          return service.reconcile(AbortSignal.any([stopping.signal, lease]));
        },
        atMostEveryMs,
      )
      .then((summary) => {
        // With several replicas, one runs each sweep; the others find it taken and let it be.
        if (!summary)
          log.info(
            `reconcile sweep (${why}) not started here: another replica is running one${atMostEveryMs ? `, or ran one less than ${atMostEveryMs / 1000} s ago` : ''}`,
          );
        return summary;
      })
      .catch((error: Error) => {
        log.error(`reconcile sweep failed: ${error.message}`);
        return undefined;
      })
      .finally(() => (sweep = undefined));
    return sweep;
  };
  const { intervalMs, onStart } = config.reconcile;
  // With replicas, the deployment sweeps once per interval (a little less, for timers that drift), not each replica.
  const spacing = intervalMs > 0 ? Math.floor(intervalMs * 0.9) : undefined;
  const sweeps = intervalMs > 0 ? setInterval(() => void reconcileNow('interval', spacing), intervalMs) : undefined;
  sweeps?.unref();
  if (onStart) void reconcileNow('ReconcileOnStart=true', spacing);
  log.info(
    intervalMs > 0
      ? `reconcile sweep every ${intervalMs / 1000} s${onStart ? ', and now' : ''}`
      : `reconcile sweep off (ReconcileInterval=0)${onStart ? ', except once now' : ''}`,
  );

  let closed = false;
  return {
    url: `http://${config.listenAddress === '0.0.0.0' ? '127.0.0.1' : config.listenAddress}:${port}`,
    port,
    service,
    log,
    reconcile: () => reconcileNow('asked'),
    async close(graceMs = config.shutdownGraceMs) {
      if (closed) return;
      closed = true;
      clearInterval(pending);
      if (sweeps) clearInterval(sweeps);
      stopping.abort();
      await sweep;
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const left = await queue.stop(graceMs);
      if (left > 0) log.warn(`${left} job(s) still running at shutdown; they resume at the next start`);
      server.closeAllConnections();
      await stopped;
      await service.close(left > 0);
      await backend.close();
      log.info('stopped');
      await logs.close();
    },
  };
}
