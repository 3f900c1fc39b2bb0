// The configuration as the commands read it: app.conf and the environment, or a UsageError listing every problem.
// Apart from usage-error.ts so that commands without a configuration (copy) do not load the config's modules.
import { relative } from 'node:path';
import { ConfigError, loadConfig, type Config } from '../config/config.js';
import { UsageError } from './usage-error.js';

/** Where app.conf was looked for, and how to make one: the problems that follow are only its absence. */
function noFileLines(searched: string[]): string[] {
  const where = searched.map((path) => `./${relative(process.cwd(), path)}`).join(' and ');
  return [
    `no configuration file: looked for ${where} (CONFIG_FILE, which names another file, is not set)`,
    'to start: cp config/app.conf.example app.conf, fill in its values (or set the keys in the environment), then run swr-harbor-sync check-config',
  ];
}

/** app.conf and the environment, or a UsageError with one `error: configuration: ...` line per problem. */
export function loadCliConfig(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // main prints "error: " before the message: one such line per problem, then where every key is explained.
    throw new UsageError(
      [
        ...(error.searched ? noFileLines(error.searched) : []),
        ...error.problems.map((p) => `configuration: ${p}`),
        'see config/app.conf.example for every key',
      ].join('\nerror: '),
    );
  }
}
