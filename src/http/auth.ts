// Shared-secret checks for the API and the webhook, compared in constant time so that response timing
// leaks nothing about the expected value.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { HttpError } from './errors.js';

export function sameSecret(given: string | undefined, expected: string): boolean {
  // Hashing first gives equal lengths, which timingSafeEqual needs, without revealing the expected length.
  const a = createHash('sha256')
    .update(given ?? '')
    .digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b) && given !== undefined;
}

/** `Authorization` must equal `expected` exactly (Harbor sends its auth_header verbatim). */
export function requireExactAuthorization(expected: string | undefined) {
  return (req: Request, _res: Response, next: NextFunction) => {
    if (expected && !sameSecret(req.get('authorization'), expected)) {
      return next(
        new HttpError(
          401,
          'UNAUTHORIZED',
          "the Authorization header does not match WebhookAuthHeader; set the same value as the webhook policy's auth header in Harbor",
        ),
      );
    }
    next();
  };
}

/**
 * The credentials of an `Authorization` value in `scheme` (`Bearer`, `Basic`), if it is one. Scheme names are
 * case-insensitive (RFC 7235 section 2.1): `bearer x` is `Bearer x`.
 */
function credentialsIn(authorization: string | undefined, scheme: string): string | undefined {
  // 1*SP between scheme and credentials, as the RFC's grammar has it (a tab is not a separator there).
  const match = /^([A-Za-z0-9!#$%&'*+.^_`|~-]+) +(.*)$/.exec(authorization ?? '');
  const credentials = match?.[2]!.trim();
  return match && match[1].toLowerCase() === scheme.toLowerCase() && credentials ? credentials : undefined;
}

/** `Authorization: Bearer <ApiToken>` (scheme in any case) when an ApiToken is configured. */
export function requireApiToken(token: string | undefined) {
  return (req: Request, _res: Response, next: NextFunction) => {
    if (token && !sameSecret(credentialsIn(req.get('authorization'), 'Bearer'), token)) {
      return next(
        new HttpError(
          401,
          'UNAUTHORIZED',
          'send Authorization: Bearer <ApiToken> (the ApiToken configured for this service)',
        ),
      );
    }
    next();
  };
}

/** The realm of the Basic challenge; browsers cache the credentials per realm and origin. */
export const BASIC_REALM = 'swr-harbor-sync';

/** The password of an HTTP Basic `Authorization` value (the user name is free), if it is one. */
function basicPassword(authorization: string): string | undefined {
  const encoded = credentialsIn(authorization, 'Basic');
  if (!encoded || !/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return undefined;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}

/**
 * `Authorization: Bearer <ApiToken>`, or HTTP Basic with any user name and the ApiToken as password, when an
 * ApiToken is configured. Basic is what a browser can send on a page navigation (it prompts on the challenge
 * and then repeats the credentials on the page's own requests), so pages and the data they poll use this.
 */
export function requireApiTokenOrBasic(token: string | undefined) {
  return (req: Request, res: Response, next: NextFunction) => {
    if (!token) return next();
    const authorization = req.get('authorization') ?? '';
    // Both comparisons always run, so the time taken does not say which form came close.
    const bearer = sameSecret(credentialsIn(authorization, 'Bearer'), token);
    const basic = sameSecret(basicPassword(authorization), token);
    if (bearer || basic) return next();
    res.set('WWW-Authenticate', `Basic realm="${BASIC_REALM}", charset="UTF-8"`);
    next(
      new HttpError(
        401,
        'UNAUTHORIZED',
        'sign in with any user name and the ApiToken as the password, or send Authorization: Bearer <ApiToken>',
      ),
    );
  };
}
