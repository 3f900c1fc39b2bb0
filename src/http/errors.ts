// Errors the HTTP layer turns into answers: a status, a machine code and a sentence saying what to fix. The
// use cases' refusals are mapped here, in one table, so that service/ knows nothing of HTTP.
import type { Refusal, RefusalReason } from '../service/refusal.js';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const badRequest = (message: string) => new HttpError(400, 'BAD_REQUEST', message);

/** The job store (SQLite file or Redis) did not answer: 503, so that a client (Harbor) tries again. */
export const storeUnavailable = (error: unknown) =>
  new HttpError(503, 'STORE_UNAVAILABLE', `the job store cannot be read: ${(error as Error).message}`);

/** Each reason a use case refuses a request for, as the status and code the API answers with. */
const REFUSALS: Record<RefusalReason, { status: number; code: string }> = {
  'invalid-request': { status: 400, code: 'BAD_REQUEST' },
  'header-credentials-disabled': { status: 403, code: 'HEADER_CREDENTIALS_DISABLED' },
  'header-credentials-need-one-instance': { status: 409, code: 'HEADER_CREDENTIALS_NEED_ONE_INSTANCE' },
  'harbor-credentials': { status: 401, code: 'HARBOR_CREDENTIALS' },
  'project-not-found': { status: 404, code: 'PROJECT_NOT_FOUND' },
  'harbor-unreachable': { status: 502, code: 'HARBOR_UNREACHABLE' },
  'not-harbor': { status: 502, code: 'NOT_HARBOR' },
  'harbor-error': { status: 502, code: 'HARBOR_ERROR' },
  'huawei-credentials': { status: 401, code: 'HUAWEI_CREDENTIALS' },
  'huawei-credentials-unchecked': { status: 502, code: 'HUAWEI_CREDENTIALS' },
  'swr-unreachable': { status: 502, code: 'SWR_UNREACHABLE' },
  'swr-error': { status: 502, code: 'SWR_ERROR' },
  'namespace-taken': { status: 409, code: 'NAMESPACE_UNUSABLE' },
  'namespace-forbidden': { status: 403, code: 'NAMESPACE_UNUSABLE' },
  'swr-api-credentials': { status: 401, code: 'SWR_API' },
  'swr-api-error': { status: 502, code: 'SWR_API' },
};

export function refusalAnswer(refusal: Refusal): HttpError {
  const { status, code } = REFUSALS[refusal.reason];
  return new HttpError(status, code, refusal.message);
}
