// POST /service/notifications: Harbor's webhook target. Records the pushes durably, then answers at once;
// the copy happens later in a job. A store that cannot be written answers 503 so that Harbor retries.
import { Router, json } from 'express';
import { NotificationError, parseNotification } from '../../harbor/webhook.js';
import type { SyncService } from '../../service/sync-service.js';
import { requireExactAuthorization } from '../auth.js';
import { HttpError, badRequest } from '../errors.js';
import { requireUtf8 } from '../validate.js';

export function notificationsRoute(service: SyncService): Router {
  const router = Router();
  router.post(
    '/service/notifications',
    requireExactAuthorization(service.config.webhookAuthHeader),
    // Harbor and registries label the body variously (json, cloudevents+json, distribution events): read any as JSON.
    json({ limit: '1mb', type: () => true, strict: true, verify: requireUtf8 }),
    (req, res, next) => {
      let parsed;
      try {
        parsed = parseNotification(req.body);
      } catch (error) {
        if (error instanceof NotificationError) return next(badRequest(error.message));
        return next(error);
      }
      let summary;
      try {
        summary = service.acceptPushes(parsed.pushes);
      } catch (error) {
        return next(new HttpError(503, 'STORE_UNAVAILABLE', `the event could not be recorded (${(error as Error).message}); it was not accepted, send it again`));
      }
      res.status(200).json({ accepted: summary.queued.length + summary.merged.length + summary.pending, jobs: [...summary.queued, ...summary.merged], pending: summary.pending, ignored: [...parsed.ignored, ...summary.ignored] });
    },
  );
  return router;
}
