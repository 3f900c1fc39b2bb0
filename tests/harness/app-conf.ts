// Owns writing an app.conf as an operator would: one KEY=value line per key, for CONFIG_FILE.

/** The text of an app.conf holding `values`. */
export function appConfText(values: Record<string, string>): string {
  return `${Object.entries(values)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n')}\n`;
}
