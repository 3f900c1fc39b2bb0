// Text a peer sent us (error messages, token service answers) made safe to put in our own errors and logs:
// capped, and with control characters escaped so that a peer cannot forge log lines or terminal output.

export const PEER_TEXT_MAX = 300;

// C0, DEL, C1, and the Unicode line and paragraph separators that some log viewers break lines at.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

export function peerText(text: string, max = PEER_TEXT_MAX): string {
  const capped = text.length > max ? `${text.slice(0, max)}…` : text;
  return capped.replace(CONTROL, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
