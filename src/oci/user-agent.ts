// Owns the product's version and the User-Agent every client sends: read once from package.json at run time,
// so a release changes one place. In `oci/` because every layer may import it and it needs nothing of the project.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'swr-harbor-sync';
let cached: string | undefined;

/** The first package.json above this file that is ours: from dist/bin/ (the bundle) or src/oci/ (ts-jest). */
function readVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        const parsed = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
        if (parsed.name === PACKAGE_NAME && typeof parsed.version === 'string') return parsed.version;
      } catch {
        // An unreadable package.json on the way up is not ours: keep looking.
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
}

/** This build's version, as package.json says (`unknown` if it cannot be found, never a throw). */
export function serviceVersion(): string {
  cached ??= readVersion();
  return cached;
}

/** `swr-harbor-sync/<version>`: the User-Agent of every request this project makes. */
export function userAgent(): string {
  return `${PACKAGE_NAME}/${serviceVersion()}`;
}
