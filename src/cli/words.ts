// Owns how the command line writes a count with its noun: "1 image", "2 images", never "1 images".

/** `count` and the noun, singular for exactly one; `plural` for nouns that do not just take an s. */
export function counted(count: number, singular: string, plural = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : plural}`;
}
