// Shared-secret checks for the API and the webhook, compared in constant time so that response timing
// leaks nothing about the expected value.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { HttpError } from './errors.js';

export function sameSecret(given: string | undefined, expected: string): boolean {
  // Hashing first gives equal lengths, which timingSafeEqual needs, without revealing the expected length.
  const a = createHash('sha256').update(given ?? '').digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b) && given !== undefined;
}

/** `Authorization` must equal `expected` exactly (Harbor sends its auth_header verbatim). */
export function requireExactAuthorization(expected: string | undefined) {
  return (req: Request, _res: Response, next: NextFunction) => {
    if (expected && !sameSecret(req.get('authorization'), expected)) {
      return next(new HttpError(401, 'UNAUTHORIZED', 'the Authorization header does not match WebhookAuthHeader; set the same value as the webhook policy\'s auth header in Harbor'));
    }
    next();
  };
}

/** `Authorization: Bearer <ApiToken>` when an ApiToken is configured. */
export function requireApiToken(token: string | undefined) {
  return (req: Request, _res: Response, next: NextFunction) => {
    if (token && !sameSecret(req.get('authorization'), `Bearer ${token}`)) {
      return next(new HttpError(401, 'UNAUTHORIZED', 'send Authorization: Bearer <ApiToken> (the ApiToken configured for this service)'));
    }
    next();
  };
}
