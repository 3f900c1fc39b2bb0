// Secret scrubbing for everything the service writes: known secret values are replaced wherever they appear,
// as a last line of defence behind code that never puts them in messages in the first place.

export class Redactor {
  private readonly secrets = new Set<string>();

  /** Registers values to hide; very short values are ignored, since masking them would mangle ordinary text. */
  add(...values: Array<string | undefined>): void {
    for (const value of values) {
      if (value && value.length >= 6) {
        this.secrets.add(value);
        // The same secret inside a Basic header is base64 of user:password, so hide its encodings too.
        this.secrets.add(encodeURIComponent(value));
      }
    }
  }

  redact(text: string): string {
    let out = text;
    for (const secret of this.secrets) if (out.includes(secret)) out = out.split(secret).join('***');
    return out.replace(/(authorization["']?\s*[:=]\s*["']?)(basic|bearer)\s+[A-Za-z0-9._~+/=-]+/gi, '$1$2 ***');
  }

  /** Deep copy with every string scrubbed, for structured log fields and API answers. */
  redactValue<T>(value: T): T {
    if (typeof value === 'string') return this.redact(value) as T;
    if (Array.isArray(value)) return value.map((v) => this.redactValue(v)) as T;
    if (value && typeof value === 'object' && !(value instanceof Date)) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.redactValue(v)])) as T;
    }
    return value;
  }
}
