// `check-config`: one line per thing the service depends on, ok or the reason; non-zero exit when any fails.
import { ConfigError, loadConfig } from '../config/config.js';
import { preflight } from '../service/preflight.js';

export async function checkConfigCommand(): Promise<number> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      for (const problem of error.problems) process.stdout.write(`FAIL configuration: ${problem}\n`);
      return 1;
    }
    throw error;
  }
  const results = await preflight(config);
  for (const r of results)
    process.stdout.write(`${r.ok ? (r.warning ? 'warn' : 'ok  ') : 'FAIL'} ${r.what}: ${r.detail}\n`);
  const failed = results.filter((r) => !r.ok).length;
  process.stdout.write(failed === 0 ? 'all checks passed\n' : `${failed} check(s) failed\n`);
  return failed === 0 ? 0 : 1;
}
