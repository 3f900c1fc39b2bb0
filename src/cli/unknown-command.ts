// Owns what a mistyped command gets: its name, the nearest command, the list of commands and exit 2. Without
// this, the default command (serve) takes the word as its argument and says "too many arguments for 'serve'".

/** Edits (insert, delete, replace, swap two neighbours) from `a` to `b`: enough to catch a typo. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => i || j));
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.length][b.length];
}

/**
 * The message for `word` when it is in the command's place and names no command (undefined when it is one).
 * A suggestion is made within a third of the word's length in edits, so a stray word gets no odd guess.
 */
export function unknownCommandMessage(word: string, commands: string[]): string | undefined {
  if (commands.includes(word)) return undefined;
  const nearest = commands
    .map((name) => ({ name, edits: distance(word, name) }))
    .sort((x, y) => x.edits - y.edits)
    .find((c) => c.edits <= Math.max(1, Math.floor(c.name.length / 3)));
  return (
    `unknown command '${word}'${nearest ? ` (did you mean ${nearest.name}?)` : ''}\n` +
    `commands: ${commands.join(', ')}; swr-harbor-sync --help describes them`
  );
}
