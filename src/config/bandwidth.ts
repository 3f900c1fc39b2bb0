// Owns reading a bandwidth such as `20MB/s` or `100Mbit/s` (MaxBandwidth, the CLI's --max-bandwidth) into bytes
// per second, with the one message that lists the accepted forms.

/** Bytes per second of each unit. Decimal prefixes are powers of 10, binary ones (KiB, MiB, GiB) of 2. */
const UNITS: Record<string, number> = {
  B: 1,
  kB: 1e3,
  KB: 1e3,
  KiB: 1024,
  MB: 1e6,
  MiB: 1024 ** 2,
  GB: 1e9,
  GiB: 1024 ** 3,
  kbit: 1e3 / 8,
  Kbit: 1e3 / 8,
  Mbit: 1e6 / 8,
  Gbit: 1e9 / 8,
  // Harbor's replication rules state their limit in Kbps, which Harbor counts as 1024 bits (128 bytes) per
  // second (KBRATE in its iothrottler.go): this unit is Harbor's, so a rule's value can be copied over as it is.
  Kbps: 1024 / 8,
};

/**
 * Below this a blob upload would sit idle between grants long enough for a proxy in front of the destination
 * to drop it, and a layer of a few hundred MB would take hours: refused rather than half-working.
 */
export const MIN_BANDWIDTH = 100_000;

export const BANDWIDTH_FORMS =
  '0 (unlimited) or a number with a unit per second: B, kB, MB, GB (powers of 10), KiB, MiB, GiB (of 2), kbit, Mbit, Gbit (bits, powers of 10), or Kbps as Harbor counts it (1024 bits), e.g. 20MB/s, 100Mbit/s, 8192Kbps';

/** Bytes per second (0 = unlimited), or the problem with `text` naming `name`. */
export function parseBandwidth(text: string, name: string): { bytesPerSecond: number } | { problem: string } {
  const v = text.trim();
  if (/^0+(\.0*)?$/.test(v)) return { bytesPerSecond: 0 };
  // `/s` may be left out (a bandwidth is per second anyway), but not doubled after a unit that says it (Kbps).
  const match = /^(\d+(?:\.\d+)?)\s*([A-Za-z]+)(\/s)?$/.exec(v);
  const unit = match?.[2];
  if (!match || !unit || !Object.hasOwn(UNITS, unit) || (match[3] !== undefined && unit.endsWith('ps')))
    return { problem: `${name} must be ${BANDWIDTH_FORMS}; got "${text}"` };
  const bytesPerSecond = Number(match[1]) * UNITS[unit];
  if (bytesPerSecond < MIN_BANDWIDTH)
    return {
      problem: `${name} of "${text}" is below the smallest cap, 100kB/s (800kbit/s); use 0 for no cap or a larger value`,
    };
  return { bytesPerSecond: Math.round(bytesPerSecond) };
}
