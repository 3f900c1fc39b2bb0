// The sinks' own guard, apart from what the OCI client already escapes: any text reaching a log line or a
// stored job error is one line and at most MAX_LINE_CHARS long (plus the marker saying how much was cut).
import { expect, test } from '@jest/globals';
import { MAX_LINE_CHARS, oneLine } from '../../src/logging/one-line.js';

test('control characters become visible escapes, so no text can start a line of its own', () => {
  expect(oneLine('a\r\nb\tc\u001b[2J\u2028d\u0085')).toBe('a\\r\\nb\\tc\\u001b[2J\\u2028d\\u0085');
});

test('text past the cap is cut and the cut says how much', () => {
  const out = oneLine(`${'y'.repeat(MAX_LINE_CHARS)}\n${'z'.repeat(999)}`);
  expect(out.startsWith('y'.repeat(MAX_LINE_CHARS))).toBe(true);
  // The escape counts towards the cap: 2 characters for the newline, then 999.
  expect(out.endsWith('... [cut: 1001 more chars]')).toBe(true);
  expect(out).not.toMatch(/[\r\n]/);
});
