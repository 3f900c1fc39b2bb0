// The kinds of configuration value (boolean, bounded whole number, choice, duration, ...): how each reads its
// text and the exact words of its problem, so that a key declares only its kind, bounds and default.
import { readFileSync } from 'node:fs';
import { MAX_DURATION_MS, parseDuration } from './duration.js';

/** The README's groups, in its order. */
export type KeyGroup = 'old tool' | 'service' | 'harbor and destination' | 'replicas';

/** What the table says of a key besides how it parses. */
export interface KeyDoc {
  group: KeyGroup;
  /** One line: what the key decides. */
  doc: string;
  /** Never logged, never echoed in an error. */
  secret?: true;
  /** Repeats per destination: declared once, read under a prefix such as `DEST1_`. */
  perDestination?: true;
  /** When set, an empty key is the problem `<name> is missing: <missing>`. */
  missing?: string;
}

export interface KeySpec<T> extends KeyDoc {
  /** The default as written in app.conf (and in the README's default column); parsed like any value. */
  default?: string;
  min?: number;
  max?: number;
  /** The value of `text` (trimmed, undefined when empty), each problem pushed naming the key as `name`. */
  parse(text: string | undefined, name: string, problems: string[]): T;
}

export type ValueOf<S> = S extends KeySpec<infer T> ? T : never;

/** A value whose problems the key checks itself; the text is the default (or undefined) when the key is empty. */
export function custom<T, const M extends KeyDoc & { default?: string }>(
  meta: M,
  parse: (text: string | undefined, name: string, problems: string[]) => T,
): KeySpec<T> & M {
  return { ...meta, parse: (v, name, problems) => parse(v ?? meta.default, name, problems) };
}

/** Any text; `undefined` when empty and without default. */
export function text<const M extends KeyDoc>(meta: M): KeySpec<string | undefined> & M;
export function text<const M extends KeyDoc>(meta: M, fallback: string): KeySpec<string> & M;
export function text<const M extends KeyDoc>(meta: M, fallback?: string): KeySpec<string | undefined> & M {
  return { ...meta, default: fallback, parse: (v) => v ?? fallback };
}

function withDefault<T, M extends KeyDoc>(
  meta: M,
  fallback: string,
  read: (v: string, name: string, problems: string[]) => T | undefined,
  extra: Partial<KeySpec<T>> = {},
): KeySpec<T> & M {
  const spec: KeySpec<T> & M = {
    ...meta,
    ...extra,
    default: fallback,
    parse: (v, name, problems) => {
      const value = v === undefined ? undefined : read(v, name, problems);
      return value ?? read(fallback, name, [])!;
    },
  };
  return spec;
}

export function bool<const M extends KeyDoc>(fallback: 'true' | 'false', meta: M): KeySpec<boolean> & M {
  return withDefault(meta, fallback, (v, name, problems) => {
    if (/^(true|1|yes)$/i.test(v)) return true;
    if (/^(false|0|no)$/i.test(v)) return false;
    problems.push(`${name} must be true or false, got "${v}"`);
    return undefined;
  });
}

/** A whole number from `min` to `max`, in the key's own unit (seconds, MB, ...). */
export function int<const M extends KeyDoc>(fallback: string, min: number, max: number, meta: M): KeySpec<number> & M {
  const read = (v: string, name: string, problems: string[]) => {
    const n = Number(v);
    if (Number.isInteger(n) && n >= min && n <= max) return n;
    problems.push(`${name} must be a whole number from ${min} to ${max}, got "${v}"`);
    return undefined;
  };
  return withDefault(meta, fallback, read, { min, max });
}

/** Any finite number of at least `min` (rates may be fractional). */
export function num<const M extends KeyDoc>(fallback: string, min: number, meta: M): KeySpec<number> & M {
  const read = (v: string, name: string, problems: string[]) => {
    const n = Number(v);
    if (Number.isFinite(n) && n >= min) return n;
    problems.push(`${name} must be a number of at least ${min}, got "${v}"`);
    return undefined;
  };
  return withDefault(meta, fallback, read, { min });
}

/** One of `allowed`, matched without regard to case and returned as declared. */
export function oneOf<const T extends string, const M extends KeyDoc>(
  allowed: readonly T[],
  fallback: NoInfer<T>,
  meta: M,
): KeySpec<T> & M {
  return withDefault(meta, fallback, (v, name, problems) => choose(allowed, v, name, problems));
}

/** One of `allowed` with no default (the key is then usually `missing`). */
export function choice<const T extends string, const M extends KeyDoc>(
  allowed: readonly T[],
  meta: M,
): KeySpec<T | undefined> & M {
  return { ...meta, parse: (v, name, problems) => (v === undefined ? undefined : choose(allowed, v, name, problems)) };
}

function choose<T extends string>(allowed: readonly T[], v: string, name: string, problems: string[]): T | undefined {
  const match = allowed.find((a) => a.toLowerCase() === v.toLowerCase());
  if (!match) problems.push(`${name} must be one of ${allowed.join(', ')}, got "${v}"`);
  return match;
}

/** `0` (off) or 1s to 24h, in milliseconds. */
export function duration<const M extends KeyDoc>(fallback: string, meta: M): KeySpec<number> & M {
  const read = (v: string, name: string, problems: string[]) => {
    const ms = parseDuration(v);
    if (ms !== undefined && (ms === 0 || (ms >= 1000 && ms <= MAX_DURATION_MS))) return ms;
    problems.push(`${name} must be 0 (off) or a duration from 1s to 24h such as 30s, 15m or 1h, got "${v}"`);
    return undefined;
  };
  return withDefault(meta, fallback, read, { min: 0, max: MAX_DURATION_MS });
}

/** A path to a PEM file holding a CA certificate; the value is the file's text. */
export function pem<const M extends KeyDoc>(meta: M): KeySpec<string | undefined> & M {
  return custom(meta, (path, name, problems) => {
    if (path === undefined) return undefined;
    try {
      const content = readFileSync(path, 'utf8');
      if (content.includes('-----BEGIN CERTIFICATE-----')) return content;
      problems.push(`${name} must be a PEM file with a CA certificate; ${path} holds none`);
    } catch (error) {
      problems.push(
        `${name} points at ${path}, which cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      );
    }
    return undefined;
  });
}

/** `http(s)://host[:port]`; empty leaves the choice to whoever reads it (the region's host). */
export function endpoint<const M extends KeyDoc>(meta: M): KeySpec<string | undefined> & M {
  return custom(meta, (v, name, problems) => {
    if (v !== undefined && !/^https?:\/\/[^/\s]+\/?$/.test(v))
      problems.push(`${name} must be a URL like https://host[:port], got "${v}"`);
    return v;
  });
}
