// Owns reading one filter pattern the way Harbor's replication reads it: Harbor matches names with Go's
// github.com/bmatcuk/doublestar v1 (src/pkg/reg/util/pattern.go), so `*` stays within a path segment, `**`
// crosses segments, `?` is one character, `[...]` a class (`[^...]` negated) and `{a,b}` alternatives. The
// matching itself is minimatch's, with its options pinned to that meaning; the few constructs where the two
// libraries read a pattern differently are refused with what to write instead, never matched differently.
import { Minimatch, type MinimatchOptions } from 'minimatch';

export interface FilterPattern {
  /** As written. */
  readonly text: string;
  matches(name: string): boolean;
}

/** Long enough for any real rule; bounds the brace expansion an API caller's pattern may ask for. */
export const MAX_PATTERN_LENGTH = 256;

const DOUBLESTAR: MinimatchOptions = {
  dot: true, // doublestar has no hidden names: `*` matches a leading dot
  noext: true, // `@(a|b)`, `+(a)`, `!(a)` are literal text in doublestar
  nonegate: true, // a leading `!` is a literal character, not "everything but"
  nocomment: true, // a leading `#` too
  nocase: false,
  matchBase: false,
  platform: 'linux', // `\` escapes the next character, `/` is the only separator
  optimizationLevel: 0, // match the pattern as written (no `.`/`..` folding: doublestar has none)
};

/** Why `text` is not a pattern this service reads exactly as Harbor does; undefined when it is one. */
export function patternProblem(text: string): string | undefined {
  if (text === '') return 'is empty';
  if (text.length > MAX_PATTERN_LENGTH) return `is longer than ${MAX_PATTERN_LENGTH} characters`;
  let braces = 0;
  const commas = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') {
      if (i === text.length - 1) return 'ends with a lone \\ (write \\\\ for a backslash)';
      i++;
    } else if (c === '[') {
      const end = classEnd(text, i);
      if (end < 0) return 'has a [ without its ] (write \\[ for the character itself)';
      const problem = classProblem(text.slice(i + 1, end));
      if (problem) return problem;
      i = end;
    } else if (c === '{') {
      braces++;
      commas.push(0);
    } else if (c === ',' && braces > 0) {
      commas[commas.length - 1]++;
    } else if (c === '}' && braces > 0) {
      braces--;
      // doublestar reads `{a}` as the one alternative `a`, minimatch as the text `{a}` (and `{1..3}` as a range).
      if (commas.pop() === 0) return 'has braces without a comma: {a,b} lists alternatives; write a single one bare';
    }
  }
  if (braces > 0) return 'has a { without its } (write \\{ for the character itself)';
  return undefined;
}

/** Index of the `]` closing the class opened at `open` (doublestar: the first one not escaped), or -1. */
function classEnd(text: string, open: number): number {
  for (let i = open + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === ']') return i;
  }
  return -1;
}

function classProblem(body: string): string | undefined {
  if (body === '' || body === '^') return 'has an empty class []';
  // doublestar negates with `^` only: `[!a]` is the characters ! and a there, "not a" in minimatch.
  if (body.startsWith('!')) return 'has [!...]: Harbor reads ! there as the character itself; write [^...] to exclude';
  if (body.includes('[:')) return 'has a [:class:], which Harbor does not know: list the characters, e.g. [a-z]';
  // doublestar's own walk of a class: each `-` joins two characters, else the pattern is bad.
  const chars = [...(body.startsWith('^') ? body.slice(1) : body)];
  const badRange = 'has a class with a range missing one end, e.g. [a-] or [a-b-c]: write \\- for the character -';
  for (let i = 0; i < chars.length;) {
    if (chars[i] === '-') return badRange;
    i += chars[i] === '\\' ? 2 : 1;
    if (chars[i] !== '-') continue;
    i++;
    if (i >= chars.length || chars[i] === '-') return badRange;
    i += chars[i] === '\\' ? 2 : 1;
  }
  return undefined;
}

/** The pattern, or its problem as a sentence fragment (`is empty`, `has a [ without its ]`). */
export function compilePattern(text: string): FilterPattern | string {
  const problem = patternProblem(text);
  if (problem) return problem;
  const matcher = new Minimatch(text, DOUBLESTAR);
  return { text, matches: (name) => matcher.match(name) };
}
