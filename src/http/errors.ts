// Errors the HTTP layer turns into answers: a status, a machine code and a sentence saying what to fix.

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
export const storeUnavailable = (error: unknown) => new HttpError(503, 'STORE_UNAVAILABLE', `the job store cannot be read: ${(error as Error).message}`);
