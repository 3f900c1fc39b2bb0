// `serve`: runs the sync service until SIGTERM or SIGINT, then stops in order and exits 0.
import { loadCliConfig } from './usage-error.js';
import { startService } from '../main/start.js';

/** Time allowed after the grace period for the rest of an orderly stop (HTTP, store, logs). */
const STOP_MARGIN_MS = 3000;

export async function serveCommand(): Promise<void> {
  const config = loadCliConfig();
  const running = await startService(config);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`${signal}: stopping (up to ${config.shutdownGraceMs / 1000} s for running jobs)\n`);
    // close() can outlast the grace period: closing the HTTP clients waits for their in-flight requests (a slow
    // upload). Every job state is already on disk (SQLite writes are synchronous), so once the grace period and
    // a margin for the rest of the stop are over, exit anyway; unfinished jobs resume at the next start.
    setTimeout(() => {
      process.stderr.write(
        `${signal}: in-flight transfers still open ${config.shutdownGraceMs / 1000 + STOP_MARGIN_MS / 1000} s after the signal; exiting, unfinished jobs resume at the next start\n`,
      );
      process.exit(0);
    }, config.shutdownGraceMs + STOP_MARGIN_MS).unref();
    running.close().then(
      () => process.exit(0),
      (error: Error) => {
        process.stderr.write(`error while stopping: ${error.message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
