// Owns making outside text (a registry's or Harbor's error message, anything a peer chose) safe for sinks
// read line by line: control characters become visible escapes, so a peer cannot start a line of its own
// (a forged INFO line in a log, a fake row in a job's error), and a length cap stops one answer flooding them.
// The OCI client already escapes a peer's words in its errors the same way; this is the sinks' own guard.
import { escapeControl } from '../oci/peer-text.js';

export { escapeControl };

/** Longest text kept in a log message or a stored job error; the rest is cut and the cut is marked. */
export const MAX_LINE_CHARS = 4000;

export function capLength(text: string, max = MAX_LINE_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max)}... [cut: ${text.length - max} more chars]`;
}

/** Escaped first, then cut: the cap bounds what is written, escapes included. */
export function oneLine(text: string, max = MAX_LINE_CHARS): string {
  return capLength(escapeControl(text), max);
}

/** Deep copy with `fn` applied to every string: structured log fields, stored results. */
export function mapStrings<T>(value: T, fn: (text: string) => string): T {
  if (typeof value === 'string') return fn(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => mapStrings(v, fn)) as T;
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, fn)])) as T;
  }
  return value;
}
