// Why a use case refused a request, as a closed set the compiler checks: the HTTP layer maps each reason to a
// status and a code (http/errors.ts), a command could map them to exit codes. The message says what to fix.

export type RefusalReason =
  /** A value the caller sent (or left to the configuration) cannot be used as it is. */
  | 'invalid-request'
  /** Credentials in headers were sent while AllowHeaderCredentials=false. */
  | 'header-credentials-disabled'
  /** Credentials in headers with QueueBackend=redis: another replica, without them, may run the job. */
  | 'header-credentials-need-one-instance'
  /** Harbor wants (other) credentials for the project. */
  | 'harbor-credentials'
  | 'project-not-found'
  | 'harbor-unreachable'
  /** HarborAddr answers, but not as Harbor (a plain registry, another web server). */
  | 'not-harbor'
  | 'harbor-error'
  /** The destination registry or SWR's API refused the Huawei Cloud credentials. */
  | 'huawei-credentials'
  /** SWR's API failed otherwise while checking the Huawei Cloud credentials. */
  | 'huawei-credentials-unchecked'
  | 'swr-unreachable'
  | 'swr-error'
  /** The namespace belongs to another Huawei Cloud account. */
  | 'namespace-taken'
  /** The namespace cannot be used by this account (no push rights, cannot be created). */
  | 'namespace-forbidden'
  /** SWR's management API refused the credentials while asked about a namespace. */
  | 'swr-api-credentials'
  | 'swr-api-error';

export class Refusal extends Error {
  constructor(
    readonly reason: RefusalReason,
    message: string,
  ) {
    super(message);
    this.name = 'Refusal';
  }
}
