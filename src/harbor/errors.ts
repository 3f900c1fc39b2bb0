// Owns HarborError and how Harbor's failures read in messages: what went wrong, what to do, and Harbor's own
// text cut short with control characters escaped (a hostile or broken Harbor must not forge log lines).
import { peerText } from '../oci/index.js';

export class HarborError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
  ) {
    super(message);
    this.name = 'HarborError';
  }
}

/** Harbor's text as it may appear in a message: at most 300 characters, control characters escaped. */
export function quoteHarborText(text: string): string {
  return peerText(text);
}

/**
 * The message of Harbor's error body, ready for a one-line message (trimmed, cut, control characters escaped):
 * v2.0 `{"errors":[{code,message}]}` (every message), v1 `{"code","message"}`, else the text (a proxy's page, Go's
 * `404 page not found\n`). Every message quoting an error body of Harbor's takes it from here.
 */
export function harborErrorDetail(body: string): string {
  let detail = body;
  try {
    const parsed = JSON.parse(body) as { errors?: Array<{ code?: unknown; message?: unknown }>; message?: unknown };
    if (typeof parsed.message === 'string') detail = parsed.message;
    else if (Array.isArray(parsed.errors))
      detail = parsed.errors
        .map((e) => (typeof e?.message === 'string' ? e.message : typeof e?.code === 'string' ? e.code : ''))
        .filter(Boolean)
        .join('; ');
  } catch {
    // Not JSON: a proxy's page or Harbor 1.x's plain text.
  }
  return quoteHarborText(detail);
}

export function harborFailure(status: number, body: string, url: URL, withCredentials: boolean): HarborError {
  const detail = harborErrorDetail(body);
  const where = `${url.origin}${url.pathname}`;
  if (status === 401) {
    return new HarborError(
      withCredentials
        ? `Harbor refused the credentials (HarborUser/HarborPassword) for ${where}`
        : `Harbor needs credentials for ${where}: set HarborUser and HarborPassword`,
      401,
      'UNAUTHORIZED',
    );
  }
  if (status === 403)
    return new HarborError(
      `the Harbor user may not read ${where}; give it at least the guest role on the project`,
      403,
      'FORBIDDEN',
    );
  return new HarborError(
    `Harbor answered ${status} for ${where}${detail ? `: ${detail}` : ''}`,
    status,
    `HTTP_${status}`,
  );
}
