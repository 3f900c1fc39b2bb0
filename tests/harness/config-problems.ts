// Owns asking the configuration parser what is wrong with a set of keys, for tests of its messages.
import { ConfigError, parseConfig } from '../../src/config/config.js';

/** The problems parseConfig lists for `raw`; fails the test if it accepts them. */
export function configProblems(raw: Record<string, string>): string[] {
  try {
    parseConfig(raw);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(Object.keys(raw))}`);
}
