// Owns the file handles of the per-project logs: a project's files are open only while it is logging. A file
// idle for a while, or the least recently used beyond a cap, is closed; its next line opens it again and
// appends. Without this every project ever synced kept two descriptors open for the life of the process.
import winston from 'winston';
import type WinstonTransport from 'winston-transport';

// winston's base transport comes from winston-transport, a dependency of winston's rather than ours: taken
// from winston at run time (where it is exported as `Transport`), only its type from the package itself.
const TransportStream = (winston as unknown as { Transport: typeof WinstonTransport }).Transport;

type FileTransport = InstanceType<typeof winston.transports.File>;

export interface OpenFileLimits {
  /** A file with no line for this long is closed. */
  idleMs: number;
  /** At most this many project files open at once (two per project). */
  maxOpen: number;
}

export const DEFAULT_OPEN_FILE_LIMITS: OpenFileLimits = { idleMs: 5 * 60 * 1000, maxOpen: 100 };

/** How long a closing file may take to flush before its handle is given up on (a full disk, a hung mount). */
const CLOSE_WAIT_MS = 2000;

/** The files open now, least recently used first; closes the idle ones and the ones beyond the cap. */
export class OpenFiles {
  private readonly open = new Map<ReopeningFileTransport, number>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly limits: OpenFileLimits = DEFAULT_OPEN_FILE_LIMITS) {
    this.sweeper = setInterval(() => this.closeIdle(), Math.max(1000, Math.min(limits.idleMs / 2, 60_000)));
    this.sweeper.unref();
  }

  get size(): number {
    return this.open.size;
  }

  used(file: ReopeningFileTransport): void {
    this.open.delete(file);
    this.open.set(file, Date.now());
    for (const oldest of this.open.keys()) {
      if (this.open.size <= this.limits.maxOpen) break;
      this.open.delete(oldest);
      void oldest.shut();
    }
  }

  closeIdle(now = Date.now()): void {
    for (const [file, at] of this.open) {
      if (now - at < this.limits.idleMs) break;
      this.open.delete(file);
      void file.shut();
    }
  }

  async closeAll(): Promise<void> {
    clearInterval(this.sweeper);
    const files = [...this.open.keys()];
    this.open.clear();
    await Promise.all(files.map((f) => f.shut()));
  }
}

/**
 * A winston transport in front of a File transport made on demand: the logger holding it never sees the
 * file close. Lines written while the previous handle is still flushing wait for it, so they stay in order.
 */
export class ReopeningFileTransport extends TransportStream {
  private file: FileTransport | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly openFile: () => FileTransport,
    private readonly files: OpenFiles,
  ) {
    super();
    // Opened at once, as a plain File transport is: the first line does not wait for the open.
    this.reopen();
  }

  override log(info: unknown, next: () => void): void {
    if (this.closing) {
      void this.closing.then(() => this.log(info, next));
      return;
    }
    this.reopen().log!(info, next);
  }

  private reopen(): FileTransport {
    if (!this.file) {
      this.file = this.openFile();
      // Disk errors reach the logger as they would from a plain File transport.
      this.file.on('error', (error) => this.emit('error', error));
    }
    this.files.used(this);
    return this.file;
  }

  /** Flushes and closes the file; the next line opens it again. */
  shut(): Promise<void> {
    if (this.closing) return this.closing;
    const file = this.file;
    if (!file) return Promise.resolve();
    this.file = undefined;
    this.closing = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, CLOSE_WAIT_MS);
      timer.unref();
      // end() runs the File transport's _final, which waits for the file stream to finish writing.
      file.once('finish', () => {
        clearTimeout(timer);
        resolve();
      });
      file.end();
    }).finally(() => (this.closing = undefined));
    return this.closing;
  }

  override close(): void {
    void this.shut();
  }

  override _final(callback: (error?: Error | null) => void): void {
    void this.shut().then(() => callback());
  }
}
