// Owns pacing a stream of progress reports: the latest one is written at most once per interval, so a copy
// reporting every chunk does not become a write per chunk.

export function throttled<T>(intervalMs: number, write: (value: T) => void): (value: T) => void {
  let last = 0;
  let pending: T | undefined;
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    timer = undefined;
    last = Date.now();
    if (pending !== undefined) write(pending);
  };
  return (value) => {
    pending = value;
    if (timer) return;
    timer = setTimeout(flush, Math.max(0, intervalMs - (Date.now() - last)));
    timer.unref();
  };
}
