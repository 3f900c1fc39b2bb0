// The service's logs, laid out as the old tool's: running.log for the service, <project>-running.log for
// every step of a project's syncs, <project>-success.log with one line per image synced; plus the console.
import { accessSync, constants, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import winston from 'winston';
import { harborProjectProblem } from '../config/names.js';
import type { Redactor } from './redact.js';

export interface ProjectLogs {
  running: winston.Logger;
  success: winston.Logger;
}

export interface Logs {
  service: winston.Logger;
  dir: string;
  project(name: string): ProjectLogs;
  close(): Promise<void>;
}

function writableDir(dir: string): boolean {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

export type LogFormat = 'text' | 'json';

function lineFormat(redactor: Redactor, style: LogFormat) {
  const redacted = winston.format((info) => {
    info.message = redactor.redact(String(info.message));
    for (const key of Object.keys(info)) {
      if (key !== 'message' && key !== 'level') (info as Record<string, unknown>)[key] = redactor.redactValue(info[key]);
    }
    return info;
  })();
  if (style === 'json') return winston.format.combine(redacted, winston.format.timestamp(), winston.format.json());
  return winston.format.combine(
    redacted,
    winston.format.timestamp(),
    winston.format.printf(({ timestamp, level, message, jobId, ...meta }) => {
      // A job's lines start with its id, so that grep finds every step of one job across the files.
      const job = jobId ? `[job ${String(jobId)}] ` : '';
      const extra = Object.keys(meta).length > 0 ? ` ${JSON.stringify(meta)}` : '';
      return `${timestamp} ${level.toUpperCase()} ${job}${message}${extra}`;
    }),
  );
}

/** The same logs with every line tagged with a job id (a field in JSON, a prefix in text). */
export function jobProjectLogs(logs: ProjectLogs, jobId: string): ProjectLogs {
  return { running: logs.running.child({ jobId }), success: logs.success.child({ jobId }) };
}

export function createLogs(preferredDir: string, redactor: Redactor, options: { console?: boolean; level?: string; format?: LogFormat } = {}): Logs {
  let dir = preferredDir;
  let fellBack = false;
  if (!writableDir(dir)) {
    dir = join(process.cwd(), 'logs');
    fellBack = true;
    if (!writableDir(dir)) throw new Error(`neither LogDir ${preferredDir} nor ${dir} is writable; set LogDir to a writable directory`);
  }
  const format = lineFormat(redactor, options.format ?? 'text');
  const transports: winston.transport[] = [new winston.transports.File({ filename: join(dir, 'running.log') })];
  if (options.console ?? true) transports.push(new winston.transports.Console());
  const service = winston.createLogger({ level: options.level ?? 'info', format, transports });
  if (fellBack) service.warn(`LogDir ${preferredDir} is not writable; logging to ${dir} instead`);

  const projects = new Map<string, ProjectLogs>();
  const all: winston.Logger[] = [service];
  return {
    service,
    dir,
    project(name: string): ProjectLogs {
      // The name becomes part of a file name: only a valid Harbor project name may.
      if (harborProjectProblem(name)) throw new Error(`"${name}" is not a valid Harbor project name`);
      let logs = projects.get(name);
      if (!logs) {
        logs = {
          running: winston.createLogger({ level: 'info', format, transports: [new winston.transports.File({ filename: join(dir, `${name}-running.log`) })] }),
          success: winston.createLogger({ level: 'info', format, transports: [new winston.transports.File({ filename: join(dir, `${name}-success.log`) })] }),
        };
        projects.set(name, logs);
        all.push(logs.running, logs.success);
      }
      return logs;
    },
    async close(): Promise<void> {
      await Promise.all(
        all.map(
          (logger) =>
            new Promise<void>((resolve) => {
              logger.on('finish', () => resolve());
              logger.end();
              setTimeout(resolve, 500).unref();
            }),
        ),
      );
    },
  };
}
