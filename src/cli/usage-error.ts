// A mistake in how a command was called (or configured): exit code 2 and the reason, not a stack trace.
import { ConfigError, loadConfig, type Config } from '../config/config.js';

export class UsageError extends Error {}

/** app.conf and the environment, or a UsageError with one `error: configuration: ...` line per problem. */
export function loadCliConfig(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // main prints "error: " before the message: one such line per problem, then where every key is explained.
    throw new UsageError(
      [...error.problems.map((p) => `configuration: ${p}`), 'see config/app.conf.example for every key'].join(
        '\nerror: ',
      ),
    );
  }
}
