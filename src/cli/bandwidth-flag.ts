// Owns the --max-bandwidth flag of `sync`, `copy` and `copy-prefix`: read as MaxBandwidth is, into the
// process's limiter.
import { parseBandwidth } from '../config/bandwidth.js';
import { bandwidthLimit, type BandwidthLimiter } from '../copy/index.js';
import { UsageError } from './usage-error.js';

/** The limiter for `--max-bandwidth` when given, else for `configured` bytes per second; none when unlimited. */
export function bandwidthFromFlag(value: string | undefined, configured = 0): BandwidthLimiter | undefined {
  if (value === undefined) return bandwidthLimit(configured);
  const read = parseBandwidth(value, '--max-bandwidth');
  if ('problem' in read) throw new UsageError(read.problem);
  return bandwidthLimit(read.bytesPerSecond);
}
