// Owns the V8 settings of the one-shot commands (copy, copy-prefix, sync): a process that lives for
// seconds, where V8's defaults for a long-running server cost more than they return.
import { setFlagsFromString } from 'node:v8';

/**
 * Applied before the copy modules load. Measured with `npm run bench` (2-core VM, median of 5):
 * - `--liftoff-only`: undici parses HTTP with llhttp compiled to WebAssembly; V8 then re-compiles it
 *   with TurboFan on background threads, about 40 ms of CPU taken from the registries beside us and a
 *   transient of up to 40 MB. A short run never repays it: 50 small images 0.67 -> 0.63 s.
 * - `--semi-space-growth-factor=1`: the young generation stays at its start size instead of growing to
 *   16 MB per semi-space, so socket-read buffers (64 KiB each, freed only by a collection) are collected
 *   every few MiB instead of every few tens: peak RSS of a 1 GiB layer 111-140 -> 80-83 MB, same time.
 * Both flags are read when used (the compile, each growth decision), so setting them here takes effect;
 * `serve` keeps the defaults, which pay off over a long life.
 */
export function tuneV8ForShortRun(): void {
  setFlagsFromString('--liftoff-only');
  setFlagsFromString('--semi-space-growth-factor=1');
}
