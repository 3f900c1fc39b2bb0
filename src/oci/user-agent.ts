// Owns who this program says it is on the wire: `swr-harbor-sync/<version>` in the User-Agent of every call
// (registries, Harbor's REST API, SWR's management API, IAM), so that their logs show which release called.
// The version is read from package.json at run time: the one place it is written, in src/ and in dist/ alike.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const NAME = 'swr-harbor-sync';

let cached: string | undefined;

/** The nearest package.json above this file that is ours (src/oci/ in tests, dist/src/oci/ when built). */
function ownVersion(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 6; depth++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === NAME && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // No package.json here (or not readable): look one level up.
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return undefined;
}

/** `swr-harbor-sync/0.1.0`; `swr-harbor-sync/unknown` if package.json cannot be found (a copied-out bundle). */
export function userAgent(): string {
  cached ??= `${NAME}/${ownVersion() ?? 'unknown'}`;
  return cached;
}
