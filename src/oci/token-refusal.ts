// The error for a token service that said no: its own words (capped, escaped) say why, and pick the advice.
import { parseErrorBody, RegistryError } from './errors.js';
import { peerText } from './peer-text.js';

/** `shown` is the realm as it may be shown (see `shownRealm`); `host` the registry the token was for. */
export function tokenRefusal(
  host: string,
  status: number,
  text: string,
  shown: string,
  scopes: string[],
): RegistryError {
  const said = parseErrorBody(text);
  const reason = said.message ? `: ${peerText(said.message)}` : '';
  const denied = status === 401 || status === 403;
  const missing = /does not exist|not exist|not found/i.test(said.message ?? '');
  return new RegistryError({
    code: denied ? 'UNAUTHORIZED' : `TOKEN_HTTP_${status}`,
    status,
    host,
    message: `token service ${shown} refused a token for ${scopes.join(' ') || 'the registry'} (${status})${reason}`,
    hint: missing
      ? `the namespace (organization) of this repository does not exist on ${host}: create it first`
      : denied
        ? `check the credentials used for ${host}`
        : 'the token service failed; retry later',
    retryable: status >= 500 || status === 429,
  });
}
