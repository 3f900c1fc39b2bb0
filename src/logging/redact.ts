// Secret scrubbing for everything the service writes: known secret values are replaced wherever they appear,
// as a last line of defence behind code that never puts them in messages in the first place.
// The configuration's secrets stay for the life of the process; secrets a request brought are held only while
// a job uses them (reference-counted), so that a caller cannot grow the set or blank out ordinary words.
import { mapStrings } from './one-line.js';

/** Shorter values are never scrubbed: masking them would mangle ordinary text. */
export const MIN_SCRUBBED_LENGTH = 6;

/** The forms a secret is hidden in: as given, and URL-encoded (as in a query or a form). */
function formsOf(values: Array<string | undefined>): Set<string> {
  const forms = new Set<string>();
  for (const value of values) {
    if (value && value.length >= MIN_SCRUBBED_LENGTH) {
      forms.add(value);
      forms.add(encodeURIComponent(value));
    }
  }
  return forms;
}

export class Redactor {
  private readonly permanent = new Set<string>();
  /** Secrets held for jobs, with how many holds each has. */
  private readonly held = new Map<string, number>();

  /** Registers values to hide for the life of the process (the configuration's secrets). */
  add(...values: Array<string | undefined>): void {
    for (const form of formsOf(values)) this.permanent.add(form);
  }

  /**
   * Hides `values` until the returned release is called (once per hold; calling it again does nothing). Two
   * holds of the same value keep it hidden until both are released.
   */
  hold(values: Array<string | undefined>): () => void {
    const forms = formsOf(values);
    for (const form of forms) this.held.set(form, (this.held.get(form) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const form of forms) {
        const left = (this.held.get(form) ?? 1) - 1;
        if (left > 0) this.held.set(form, left);
        else this.held.delete(form);
      }
    };
  }

  /** How many distinct forms are hidden (permanent and held): bounded by the configuration and the jobs running. */
  get size(): number {
    let extra = 0;
    for (const form of this.held.keys()) if (!this.permanent.has(form)) extra++;
    return this.permanent.size + extra;
  }

  redact(text: string): string {
    let out = text;
    for (const secrets of [this.permanent, this.held.keys()]) {
      for (const secret of secrets) if (out.includes(secret)) out = out.split(secret).join('***');
    }
    return out.replace(/(authorization["']?\s*[:=]\s*["']?)(basic|bearer)\s+[A-Za-z0-9._~+/=-]+/gi, '$1$2 ***');
  }

  /** Deep copy with every string scrubbed, for structured log fields and API answers. */
  redactValue<T>(value: T): T {
    return mapStrings(value, (text) => this.redact(text));
  }
}
