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
 * - `--interrupt-budget` 8 times V8 11.3's default (Node 20: 67584 -> 540672): a function is optimized by TurboFan only after
 *   8 times as much work. A copy of seconds spent about 50 ms of CPU compiling code it then barely ran: `npm run
 *   bench` (a), our user CPU 0.34-0.38 -> 0.28-0.33 s and the copy 0.65 -> 0.61 s (5 runs each, same hour). A long `sync`
 *   still optimizes its hot code, a little later: a 1 GiB layer took the same time, with 6% more of our CPU
 *   (1.04 -> 1.10 s). 4 times saved less (0.33 s); `--no-opt` saved the same and would never optimize at all.
 * Each is read when used (the compile, each growth decision, each new function's budget), so setting them here,
 * before the copy modules load, takes effect; `serve` keeps the defaults, which pay off over a long life.
 */
export function tuneV8ForShortRun(): void {
  setFlagsFromString('--liftoff-only');
  setFlagsFromString('--semi-space-growth-factor=1');
  setFlagsFromString(`--interrupt-budget=${8 * 67584}`);
}
