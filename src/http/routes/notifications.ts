// POST /service/notifications: Harbor's webhook target. Records the pushes (and deletions) durably, then
// answers at once; the copy or deletion happens later in a job. A store that cannot be written answers 503 so that Harbor retries.
import { Router, json, type NextFunction, type Request, type Response } from 'express';
import { NotificationError, parseNotification } from '../../harbor/webhook.js';
import type { SyncService } from '../../service/sync-service.js';
import { requireExactAuthorization } from '../auth.js';
import { HttpError, badRequest } from '../errors.js';
import { requireUtf8 } from '../validate.js';

/** Told of every notification once answered: its payload kind and what became of it. */
export type NotificationCounter = (kind: string, outcome: string) => void;

export function notificationsRoute(service: SyncService, count: NotificationCounter): Router {
  const router = Router();
  router.post(
    '/service/notifications',
    // Counted when the answer is sent, so that refusals before the handler (auth, bad JSON, size) count too.
    (_req, res, next) => {
      res.on('finish', () =>
        count(
          typeof res.locals.notificationKind === 'string' ? res.locals.notificationKind : 'unknown',
          outcomeOf(res.statusCode, res.locals.notificationAccepted === true),
        ),
      );
      next();
    },
    requireExactAuthorization(service.config.webhookAuthHeader),
    requireJsonContentType,
    json({ limit: '1mb', type: () => true, strict: true, verify: requireUtf8 }),
    async (req, res, next) => {
      res.locals.notificationKind = notificationKind(req.body);
      let parsed;
      try {
        parsed = parseNotification(req.body);
      } catch (error) {
        if (error instanceof NotificationError) return next(badRequest(error.message));
        return next(error);
      }
      let summary;
      let deletes;
      try {
        summary = await service.acceptPushes(parsed.pushes);
        deletes = await service.acceptDeletes(parsed.deletes);
      } catch (error) {
        return next(
          new HttpError(
            503,
            'STORE_UNAVAILABLE',
            `the event could not be recorded (${(error as Error).message}); it was not accepted, send it again`,
          ),
        );
      }
      const accepted = summary.queued.length + summary.merged.length + summary.pending + deletes.queued.length;
      res.locals.notificationAccepted = accepted > 0;
      res.status(200).json({
        accepted,
        jobs: [...summary.queued, ...summary.merged, ...deletes.queued],
        pending: summary.pending,
        ignored: [...parsed.ignored, ...summary.ignored, ...deletes.ignored],
      });
    },
  );
  return router;
}

/**
 * What senders label their JSON: Harbor's webhook jobs `application/json` (1.9 to today, CloudEvents
 * `application/cloudevents+json` from 2.8), Distribution `application/vnd.docker.distribution.events.v1+json`
 * (2.x, Harbor 1.x's registry) or `...v2+json` (3.x). Any other `+json` type is JSON too.
 */
export const ACCEPTED_CONTENT_TYPES = [
  'application/json',
  'application/cloudevents+json',
  'application/vnd.docker.distribution.events.v1+json',
  'application/vnd.docker.distribution.events.v2+json',
  'any application/*+json',
];

/**
 * 415 for a body not declared JSON. A cross-site HTML form can post text/plain, urlencoded or multipart to
 * this service without a CORS preflight; refusing those means a browser can never deliver a notification.
 */
function requireJsonContentType(req: Request, _res: Response, next: NextFunction): void {
  const declared = req.headers['content-type'];
  const type = (declared ?? '').split(';')[0].trim().toLowerCase();
  if (/^application\/([a-z0-9!#$&^_.-]+\+)?json$/.test(type)) return next();
  next(
    new HttpError(
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      `${declared ? `Content-Type "${type.slice(0, 100)}"` : 'a body without Content-Type'} is not accepted here: send JSON labelled ${ACCEPTED_CONTENT_TYPES.join(', ')}`,
    ),
  );
}

/** The payload's shape as parseNotification tells them apart, named as PushEvent['format'] names them. */
function notificationKind(body: unknown): string {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return 'unknown';
  const object = body as Record<string, unknown>;
  if (Array.isArray(object.events)) return 'distribution';
  if (typeof object.specversion === 'string') return 'cloudevents';
  if (typeof object.type === 'string') return 'default';
  return 'unknown';
}

function outcomeOf(status: number, accepted: boolean): string {
  if (status === 200) return accepted ? 'accepted' : 'ignored';
  if (status === 401 || status === 403) return 'unauthorized';
  if (status === 503) return 'store_unavailable';
  return status < 500 ? 'rejected' : 'error';
}
