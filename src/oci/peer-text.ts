// Text a peer sent us (error messages, token service answers) made safe to put in our own errors and logs:
// capped, and with control characters escaped so that a peer cannot forge log lines or terminal output.

export const PEER_TEXT_MAX = 300;

// C0, DEL, C1, and the Unicode line and paragraph separators that some log viewers break lines at.
// eslint-disable-next-line no-control-regex -- matching control characters is this file's whole purpose
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** Control characters as visible escapes (`\n`, `\r`, `\t`, `\u001b`): the one escaping for every sink. */
export function escapeControl(text: string): string {
  return text.replace(CONTROL, (c) => NAMED[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * A peer's words as they go into one of our one-line messages: trimmed first (Go servers end plain-text errors
 * with a newline: `404 page not found\n`), then cut and escaped.
 */
export function peerText(text: string, max = PEER_TEXT_MAX): string {
  const trimmed = text.trim();
  return escapeControl(trimmed.length > max ? `${trimmed.slice(0, max)}…` : trimmed);
}
