// Reads keys of a table from the raw text, each at most once, under an optional prefix (one destination's keys).
// Reading on demand keeps the problems in the order the parser asks for the keys.
import type { KeySpec, ValueOf } from './kinds.js';

export type Raw = Record<string, string | undefined>;
export type KeyValues<S> = { [K in keyof S]: ValueOf<S[K]> };

export interface KeyReader<S> {
  /** The key's value; its problems pushed the first time it is asked for. */
  get: <K extends keyof S & string>(key: K) => ValueOf<S[K]>;
  /** Every key of the table, in its order (those not yet read add their problems). */
  all: () => KeyValues<S>;
  /** Whether app.conf gives the key a value at all (an invalid one included), to tell "missing" from "wrong". */
  given: (key: keyof S & string) => boolean;
}

/** Trimmed, and undefined when empty: an empty `KEY=` line is no value. */
export function rawText(raw: Raw, name: string): string | undefined {
  const v = raw[name]?.trim();
  return v === '' ? undefined : v;
}

export function keyReader<S extends Record<string, KeySpec<unknown>>>(
  specs: S,
  raw: Raw,
  problems: string[],
  prefix = '',
): KeyReader<S> {
  const read = new Map<string, unknown>();
  const get = <K extends keyof S & string>(key: K): ValueOf<S[K]> => {
    if (!read.has(key)) {
      const spec = specs[key];
      const name = `${prefix}${key}`;
      const text = rawText(raw, name);
      const value = spec.parse(text, name, problems);
      if (text === undefined && spec.missing) problems.push(`${name} is missing: ${spec.missing}`);
      read.set(key, value);
    }
    return read.get(key) as ValueOf<S[K]>;
  };
  const all = () =>
    Object.fromEntries(Object.keys(specs).map((key) => [key, get(key as keyof S & string)])) as KeyValues<S>;
  const given = (key: keyof S & string) => rawText(raw, `${prefix}${key}`) !== undefined;
  return { get, all, given };
}
