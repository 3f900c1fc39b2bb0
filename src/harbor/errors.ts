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

/** The message of Harbor's error body: v2.0 `{"errors":[{message}]}`, v1 `{"code","message"}`, else the text. */
function detailOf(body: string): string {
  try {
    const parsed = JSON.parse(body) as { errors?: Array<{ message?: unknown }>; message?: unknown };
    const message = parsed.errors?.[0]?.message ?? parsed.message;
    if (typeof message === 'string') return message;
  } catch {
    // Not JSON: a proxy's page or Harbor 1.x's plain text.
  }
  return body.trim();
}

export function harborFailure(status: number, body: string, url: URL, withCredentials: boolean): HarborError {
  const detail = quoteHarborText(detailOf(body));
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
