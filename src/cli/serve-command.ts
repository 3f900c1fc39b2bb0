// `serve`: runs the sync service until SIGTERM or SIGINT, then stops in order and exits 0.
import { ConfigError, loadConfig } from '../config/config.js';
import { startService } from '../service/start.js';

export async function serveCommand(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\nSee config/app.conf.example for every key.\n`);
      process.exit(2);
    }
    throw error;
  }
  const running = await startService(config);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`${signal}: stopping (up to ${config.shutdownGraceMs / 1000} s for running jobs)\n`);
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
