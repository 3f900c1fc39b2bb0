// `check-config`: one line per thing the service depends on, ok or the reason; non-zero exit when any fails.
import { preflight } from '../service/preflight.js';
import { loadCliConfig } from './cli-config.js';
import { counted } from './words.js';

export async function checkConfigCommand(): Promise<number> {
  // An invalid configuration is a usage error as in every command (exit 2, its problems on stderr).
  const config = loadCliConfig();
  const results = await preflight(config);
  for (const r of results)
    process.stdout.write(`${r.ok ? (r.warning ? 'warn' : 'ok  ') : 'FAIL'} ${r.what}: ${r.detail}\n`);
  const failed = results.filter((r) => !r.ok).length;
  process.stdout.write(failed === 0 ? 'all checks passed\n' : `${counted(failed, 'check')} failed\n`);
  return failed === 0 ? 0 : 1;
}
