// SWR's own error codes (SVCSTG.SWR.xxxxxxx, in a JSON array body) and registry messages, turned into
// sentences that say what the user has to change, naming the keys as app.conf spells them for this destination
// (`dr_HWAK` for a named one): advice that names the default destination's keys sends the user to the wrong line.
import { peerText } from '../oci/index.js';

export class SwrApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'SwrApiError';
  }
}

// `{HWAK}` is a destination key: written with the destination's prefix (keyNames).
const ADVICE: Record<string, string> = {
  '4010000': 'the token has expired; it is renewed automatically, so if this persists check the clock of this host',
  '4000031': 'the AK/SK pair is invalid: check {HWAK} and {HWSK} (and that the key was not deleted)',
  '4011044': 'the image was created by another user; use that account or another namespace',
  '4011064': 'the namespace belongs to another Huawei Cloud account',
  '4039001': 'the account has no permission for SWR: grant it the SWR Admin or a custom policy with push rights',
  '4039002': 'the account has no permission on this namespace: grant it edit or manage rights',
  '4037017': 'the account has no permission for this operation in SWR',
  '4037020': 'the account has no permission for this operation in SWR',
  '4090060': 'the namespace already exists',
  '4040058': 'the namespace does not exist',
  '4041061': 'the namespace does not exist',
  '4001028': 'the namespace name is invalid: 1-64 lowercase letters, digits, . _ -, starting with a letter',
  '4009010': 'the namespace name is invalid: 1-64 lowercase letters, digits, . _ -, starting with a letter',
  '4000097':
    'the namespace quota of the account is used up (5 by default): delete a namespace, ask Huawei for more, or map projects onto existing namespaces in NamespaceMap',
  '4000098': 'the image quota of the account is used up: delete images or ask Huawei for a higher quota',
  '4000099': 'the tag quota of the image is used up: delete old tags',
  '4031032': 'too many requests: lower {SWRRequestsPerSecond}',
  '4031042': 'too many requests: lower {SWRRequestsPerSecond}',
  '4090023': 'SWR is busy: it will be retried',
};

/** Writes each `{Key}` of a sentence as app.conf spells that key for the destination (`prefix` `dr_`: `dr_HWAK`). */
export function keyNames(text: string, prefix = ''): string {
  return text.replace(/\{([A-Za-z]+)\}/g, (_, key: string) => `${prefix}${key}`);
}

/** `SVCSTG.SWR.4000097` -> advice, when known; `prefix` is the destination's key prefix. */
export function adviceFor(code: string | undefined, prefix = ''): string | undefined {
  if (!code) return undefined;
  const advice = ADVICE[code.replace(/^SVCSTG\.SWR\./, '')];
  return advice === undefined ? undefined : keyNames(advice, prefix);
}

/** `prefix`: how app.conf spells this destination's keys (`dr_`), for the advice. */
export function swrApiError(action: string, status: number, body: string, prefix = ''): SwrApiError {
  let saidCode: unknown;
  let said: unknown = body;
  try {
    const parsed = JSON.parse(body) as unknown;
    const first = (Array.isArray(parsed) ? parsed[0] : ((parsed as { errors?: unknown[] }).errors?.[0] ?? parsed)) as
      Record<string, unknown> | undefined;
    saidCode = first?.errorCode ?? first?.error_code ?? first?.code;
    said = first?.errorMessage ?? first?.error_msg ?? first?.message;
  } catch {
    // Not JSON (a gateway's page, a plain-text error): the text itself is the message.
  }
  // Huawei's words go into a one-line message: trimmed, cut and escaped as every peer's text is.
  const message = typeof said === 'string' ? peerText(said, 200) || undefined : undefined;
  const code =
    typeof saidCode === 'string' || typeof saidCode === 'number' ? peerText(String(saidCode), 100) : undefined;
  const advice =
    adviceFor(code, prefix) ??
    (status === 401
      ? keyNames(
          'the Huawei Cloud credentials were refused: check {HWAK}/{HWSK} or {HWDomain}/{HWUser}/{HWPassword}',
          prefix,
        )
      : status === 403
        ? 'the account lacks SWR permissions'
        : undefined);
  const text = `${action} failed: ${status}${code ? ` ${code}` : ''}${message ? ` ${message}` : ''}${advice ? `: ${advice}` : ''}`;
  return new SwrApiError(text, status, code);
}

/** Adds what to do to registry messages SWR is known to send; `prefix` is the destination's key prefix. */
export function explainRegistryFailure(reason: string, namespace: string, prefix = ''): string {
  if (/Image organization does not exist|namespace \(organization\) of this repository does not exist/i.test(reason)) {
    return `${reason}; the SWR namespace "${namespace}" does not exist: let the service create it (${prefix}SWRManageNamespaces=true) or create it in the SWR console`;
  }
  if (/Authenticate Error/i.test(reason)) {
    return `${reason}; SWR refused the login or the namespace "${namespace}" belongs to another account: ${keyNames('check {HWAK}/{HWSK} and {RegionName}', prefix)}, or map the project to another namespace`;
  }
  if (/fail to parse 'manifest\.json'/i.test(reason)) {
    return `${reason}; SWR takes only Docker-format images: set ManifestFormat=auto or docker to convert OCI images`;
  }
  return reason;
}
