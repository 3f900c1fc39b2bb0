// Owns GET / (the read-only status page) and GET /api/v1/status (the data it polls). Both take the ApiToken
// as Bearer or as a Basic password, because a browser can only send the latter on a page load. Mounted ahead
// of the other /api/v1 routes, whose Bearer-only check would otherwise answer the page's requests first.
import { randomBytes } from 'node:crypto';
import { Router } from 'express';
import type { SyncService } from '../../service/sync-service.js';
import { requireApiTokenOrBasic } from '../auth.js';
import { badRequest, storeUnavailable } from '../errors.js';
import { statusPage } from './page.js';
import { statusAnswer } from './status-data.js';

/** The script may only run with this request's nonce and talk to this origin; nothing else loads. */
function contentSecurityPolicy(nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    "connect-src 'self'",
    'img-src data:',
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export function statusRoutes(service: SyncService): Router {
  const router = Router();
  const auth = requireApiTokenOrBasic(service.config.apiToken);

  router.get('/', auth, (_req, res) => {
    const nonce = randomBytes(18).toString('base64');
    res.set({
      'Content-Security-Policy': contentSecurityPolicy(nonce),
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'DENY',
      'Referrer-Policy': 'no-referrer',
    });
    res.type('html').send(statusPage(nonce));
  });

  router.get('/api/v1/status', auth, async (req, res, next) => {
    const limit = req.query.limit === undefined ? 50 : Number(req.query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500)
      return next(badRequest('limit must be a whole number from 1 to 500'));
    let answer;
    try {
      answer = await statusAnswer(service, limit);
    } catch (error) {
      return next(storeUnavailable(error));
    }
    res.set('Cache-Control', 'no-store').json(answer);
  });
  return router;
}
