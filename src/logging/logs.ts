// The service's logs, laid out as the old tool's: running.log for the service, <project>-running.log for
// every step of a project's syncs, <project>-success.log with one line per image synced; plus the console.
import { accessSync, constants, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import winston from 'winston';
import { harborProjectProblem } from '../harbor/names.js';
import { capLength, mapStrings, oneLine } from './one-line.js';
import { DEFAULT_OPEN_FILE_LIMITS, OpenFiles, ReopeningFileTransport, type OpenFileLimits } from './project-files.js';
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

/** Size-based rotation with winston's own File options; `maxBytes` 0 leaves rotation to logrotate. */
export interface LogRotation {
  maxBytes: number;
  maxFiles: number;
}

export const DEFAULT_LOG_ROTATION: LogRotation = { maxBytes: 100 * 1024 * 1024, maxFiles: 5 };

export interface LogOptions {
  console?: boolean;
  level?: string;
  format?: LogFormat;
  rotation?: LogRotation;
  /** When project log files are closed: idle time, and how many may be open at once. */
  openFiles?: OpenFileLimits;
}

function fileTransport(path: string, rotation: LogRotation) {
  // tailable: the file being written keeps its name (what tail -F and log shippers follow); older ones are name1, name2...
  const rotating =
    rotation.maxBytes > 0 ? { maxsize: rotation.maxBytes, maxFiles: rotation.maxFiles, tailable: true } : {};
  return new winston.transports.File({ filename: path, ...rotating });
}

function lineFormat(redactor: Redactor, style: LogFormat) {
  // Secrets out first, then every message one capped line: text from a peer may hold CR/LF meant to forge a line.
  // Other fields are written as JSON in both formats, which escapes their control characters: they are only capped.
  const redacted = winston.format((info) => {
    info.message = oneLine(redactor.redact(String(info.message)));
    for (const key of Object.keys(info)) {
      if (key !== 'message' && key !== 'level')
        (info as Record<string, unknown>)[key] = mapStrings(redactor.redactValue(info[key]), (t) => capLength(t));
    }
    return info;
  })();
  if (style === 'json') return winston.format.combine(redacted, winston.format.timestamp(), winston.format.json());
  return winston.format.combine(
    redacted,
    winston.format.timestamp(),
    winston.format.printf(({ timestamp, level, message, jobId, ...meta }) => {
      // A job's lines start with its id, so that grep finds every step of one job across the files.
      const job = typeof jobId === 'string' && jobId ? `[job ${oneLine(jobId)}] ` : '';
      const extra = Object.keys(meta).length > 0 ? ` ${JSON.stringify(meta)}` : '';
      return `${String(timestamp)} ${level.toUpperCase()} ${job}${String(message)}${extra}`;
    }),
  );
}

/** Resolves once a File transport has flushed and closed its file (at most 2 s: a hung disk must not hold a stop). */
function finished(file: winston.transport): Promise<void> {
  return new Promise((resolve) => {
    file.once('finish', () => resolve());
    setTimeout(resolve, 2000).unref();
  });
}

/** The same logs with every line tagged with a job id (a field in JSON, a prefix in text). */
export function jobProjectLogs(logs: ProjectLogs, jobId: string): ProjectLogs {
  return { running: logs.running.child({ jobId }), success: logs.success.child({ jobId }) };
}

export function createLogs(preferredDir: string, redactor: Redactor, options: LogOptions = {}): Logs {
  let dir = preferredDir;
  let fellBack = false;
  if (!writableDir(dir)) {
    dir = join(process.cwd(), 'logs');
    fellBack = true;
    if (!writableDir(dir))
      throw new Error(`neither LogDir ${preferredDir} nor ${dir} is writable; set LogDir to a writable directory`);
  }
  const format = lineFormat(redactor, options.format ?? 'text');
  const rotation = options.rotation ?? DEFAULT_LOG_ROTATION;
  const serviceFile = fileTransport(join(dir, 'running.log'), rotation);
  const transports: winston.transport[] = [serviceFile];
  if (options.console ?? true) transports.push(new winston.transports.Console());
  const service = winston.createLogger({ level: options.level ?? 'info', format, transports });
  if (fellBack) service.warn(`LogDir ${preferredDir} is not writable; logging to ${dir} instead`);

  const projects = new Map<string, ProjectLogs>();
  const openFiles = new OpenFiles(options.openFiles ?? DEFAULT_OPEN_FILE_LIMITS);
  const projectLogger = (file: string) =>
    winston.createLogger({
      level: 'info',
      format,
      transports: [new ReopeningFileTransport(() => fileTransport(join(dir, file), rotation), openFiles)],
    });
  const all: winston.Logger[] = [service];
  return {
    service,
    dir,
    project(name: string): ProjectLogs {
      // The name becomes part of a file name: only a valid Harbor project name may.
      if (harborProjectProblem(name)) throw new Error(`"${name}" is not a valid Harbor project name`);
      let logs = projects.get(name);
      if (!logs) {
        logs = { running: projectLogger(`${name}-running.log`), success: projectLogger(`${name}-success.log`) };
        projects.set(name, logs);
        all.push(logs.running, logs.success);
      }
      return logs;
    },
    async close(): Promise<void> {
      // Listening before the end: the file may finish while the loggers are being ended.
      const serviceFileClosed = finished(serviceFile);
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
      // Ending a logger ends its transports; this waits until the files are flushed and closed.
      await Promise.all([openFiles.closeAll(), serviceFileClosed]);
    },
  };
}
