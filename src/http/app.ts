// The Express application: routes that only translate requests into jobs (or read them back), JSON errors,
// and nothing that waits for a copy.
import express, { type NextFunction, type Request, type Response } from 'express';
import type winston from 'winston';
import type { Redactor } from '../logging/redact.js';
import type { Readiness } from '../health/readiness.js';
import { systemClock } from '../oci/clock.js';
import type { ServiceMetrics } from '../metrics/service-metrics.js';
import type { SyncService } from '../service/sync-service.js';
import { Refusal } from '../service/refusal.js';
import { HttpError, refusalAnswer } from './errors.js';
import { apiRoutes } from './routes/api.js';
import { namespaceSyncRoute } from './routes/namespace-sync.js';
import { notificationsRoute } from './routes/notifications.js';
import { statusRoutes } from './status/routes.js';

export function createApp(
  service: SyncService,
  log: winston.Logger,
  redactor: Redactor,
  monitoring: { metrics: ServiceMetrics; readiness: Readiness },
): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  // Alive is about this process only: the store's state is /readyz's business, and a slow store (Redis
  // away) must not make a liveness probe restart every replica at once. Counts come along when quick.
  app.get('/healthz', async (_req, res) => {
    const jobs = await Promise.race([service.counts(), systemClock.sleep(1000).then(() => undefined)]).catch(
      () => undefined,
    );
    res.json({ status: 'ok', ...(jobs ? { jobs } : {}), running: service.queue.busy });
  });
  // /healthz, /metrics and /readyz stay open (no ApiToken), as Kubernetes probes and Prometheus scrapes expect:
  // they show counts, check names and registry hosts, never secrets or job contents.
  app.get('/metrics', async (_req, res) => {
    const { registry } = monitoring.metrics;
    res.set('Content-Type', registry.contentType).send(await registry.metrics());
  });
  app.get('/readyz', async (_req, res) => {
    const { ready, checks } = await monitoring.readiness.check();
    const failed = Object.keys(checks).filter((name) => !checks[name].ok);
    const message = failed
      .map((name) => `${name}: ${[checks[name].message, checks[name].action].filter(Boolean).join('; ')}`)
      .join(' | ');
    const body = ready
      ? { status: 'ready', checks }
      : { status: 'not ready', failed, checks, error: { code: 'NOT_READY', message } };
    res.status(ready ? 200 : 503).json(redactor.redactValue(body));
  });
  app.use(notificationsRoute(service, (kind, outcome) => monitoring.metrics.webhookEvents.inc({ kind, outcome })));
  app.use(namespaceSyncRoute(service));
  app.use(statusRoutes(service)); // ahead of apiRoutes: /api/v1/status also takes the ApiToken as a Basic password
  app.use(apiRoutes(service));
  app.use((req, _res, next) => next(new HttpError(404, 'NOT_FOUND', `no route ${req.method} ${req.path}`)));
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const answer = toAnswer(error);
    const line = `${req.method} ${req.path} -> ${answer.status} ${answer.body.error.code}: ${answer.body.error.message}`;
    if (answer.status >= 500) log.error(line);
    else log.warn(line);
    res.status(answer.status).json(redactor.redactValue(answer.body));
  });
  return app;
}

function toAnswer(error: unknown): { status: number; body: { error: { code: string; message: string } } } {
  if (error instanceof Refusal) error = refusalAnswer(error);
  if (error instanceof HttpError)
    return { status: error.status, body: { error: { code: error.code, message: error.message } } };
  const parserError = error as { type?: string; status?: number; message?: string };
  if (parserError.type === 'entity.too.large')
    return { status: 413, body: { error: { code: 'TOO_LARGE', message: 'the request body is too large' } } };
  if (parserError.type === 'entity.parse.failed')
    return { status: 400, body: { error: { code: 'BAD_JSON', message: 'the body is not valid JSON' } } };
  if (parserError.status && parserError.status >= 400 && parserError.status < 500) {
    return {
      status: parserError.status,
      body: { error: { code: 'BAD_REQUEST', message: parserError.message ?? 'bad request' } },
    };
  }
  return { status: 500, body: { error: { code: 'INTERNAL', message: 'internal error; see running.log' } } };
}
