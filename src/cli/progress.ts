// Terminal progress for the copy commands: one redrawn status line on a TTY (the closing summary is summary.ts).
import type { CopyEvents } from '../copy/index.js';

const MiB = 1024 * 1024;

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * MiB) return `${(bytes / 1024 / MiB).toFixed(2)} GiB`;
  if (bytes >= MiB) return `${(bytes / MiB).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
}

/** Draws a status line on stderr while copies run; does nothing when stderr is not a terminal. */
export function showProgress(events: CopyEvents, stream: NodeJS.WriteStream = process.stderr): () => void {
  if (!stream.isTTY) return () => undefined;
  const started = Date.now();
  let images = 0;
  let done = 0;
  let blobs = { uploaded: 0, mounted: 0, skipped: 0 };
  const inflight = new Map<string, number>();
  let finished = 0;
  events.on('image-start', () => images++);
  for (const e of ['image-done', 'image-skipped', 'image-failed'] as const) events.on(e, () => done++);
  events.on('blob-progress', (p) => inflight.set(`${p.destination} ${p.digest}`, p.bytes));
  events.on('blob', (b) => {
    blobs = { ...blobs, [b.action]: blobs[b.action] + 1 };
    const key = `${b.destination} ${b.digest}`;
    if (b.action === 'uploaded') finished += b.size;
    inflight.delete(key);
  });
  const draw = () => {
    const moving = [...inflight.values()].reduce((a, b) => a + b, 0);
    const seconds = (Date.now() - started) / 1000;
    const rate = seconds > 0 ? (finished + moving) / seconds : 0;
    const line = `images ${done}/${images} | blobs ${blobs.uploaded} uploaded, ${blobs.mounted} mounted, ${blobs.skipped} skipped | ${formatBytes(finished + moving)} at ${formatBytes(rate)}/s`;
    stream.write(`\r\x1b[2K${line.slice(0, (stream.columns ?? 120) - 1)}`);
  };
  const timer = setInterval(draw, 200);
  return () => {
    clearInterval(timer);
    stream.write('\r\x1b[2K');
  };
}
