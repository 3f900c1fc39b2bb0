// `serve`: runs the sync service until SIGTERM or SIGINT, then stops in order and exits 0.
import { loadCliConfig } from './cli-config.js';
import { startService } from '../main/start.js';

/** Time allowed after the grace period for the rest of an orderly stop (HTTP, store, logs). */
const STOP_MARGIN_MS = 3000;

/**
 * A line in the log's text shape, for the last words of a stop: the log itself may be closing by then, and a
 * write to a closed log fails.
 */
function stamped(level: string, message: string): string {
  return `${new Date().toISOString()} ${level} ${message}\n`;
}

export async function serveCommand(): Promise<void> {
  const config = loadCliConfig();
  const running = await startService(config);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    // Through the service's log: timestamped like every line before it, and kept in running.log.
    running.log.info(`${signal}: stopping (up to ${config.shutdownGraceMs / 1000} s for running jobs)`);
    // close() can outlast the grace period: closing the HTTP clients waits for their in-flight requests (a slow
    // upload). Every job state is already on disk (SQLite writes are synchronous), so once the grace period and
    // a margin for the rest of the stop are over, exit anyway; unfinished jobs resume at the next start.
    setTimeout(() => {
      process.stderr.write(
        stamped(
          'WARN',
          `${signal}: in-flight transfers still open ${config.shutdownGraceMs / 1000 + STOP_MARGIN_MS / 1000} s after the signal; exiting, unfinished jobs resume at the next start`,
        ),
      );
      process.exit(0);
    }, config.shutdownGraceMs + STOP_MARGIN_MS).unref();
    running.close().then(
      () => process.exit(0),
      (error: Error) => {
        process.stderr.write(stamped('ERROR', `error while stopping: ${error.message}`));
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
