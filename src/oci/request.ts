// What one request to a registry is made of, and what comes back: the shapes the transport and its callers share.
import type { Dispatcher } from 'undici';
import type { ErrorContext } from './errors.js';

export type RequestBody = Buffer | AsyncIterable<Uint8Array> | undefined;

export interface RequestOptions {
  method: string;
  /** A path below the registry root (`/v2/...`) or an absolute URL (upload sessions). */
  path: string;
  headers?: Record<string, string>;
  body?: RequestBody;
  scopes: string[];
  context: ErrorContext;
  /** Counts retries for whoever is reporting on this work. */
  counters?: { retries: number };
  /** Stops this request, its retries and their waits (a job stopped or timed out); it fails with the signal's reason. */
  signal?: AbortSignal;
  /** Stream bodies cannot be sent twice; the caller restarts the whole operation instead. */
  replayable?: boolean;
  /**
   * A blob transfer, which may take hours: no total deadline, only the idle timeout. Implied by a stream body;
   * everything else must be answered whole within the API deadline.
   */
  stream?: boolean;
}

/** What a caller adds to each of its requests: where retries are counted, and the signal that stops them. */
export type CallOptions = Pick<RequestOptions, 'counters' | 'signal'>;

export interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
  url: URL;
}
