// Durations in the configuration (ReconcileInterval and the like): `0` or a number with h/m/s units.

export const MAX_DURATION_MS = 24 * 60 * 60 * 1000;

/** `0`, or a whole number with a unit: `30s`, `15m`, `1h` (also `1h30m`); undefined when not one of those. */
export function parseDuration(text: string): number | undefined {
  const v = text.trim();
  if (/^0+$/.test(v)) return 0;
  if (!/^(\d+[hms])+$/i.test(v)) return undefined;
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000 };
  let ms = 0;
  for (const [, n, unit] of v.matchAll(/(\d+)([hms])/gi)) ms += Number(n) * units[unit.toLowerCase()];
  return ms;
}
