// Destinations: the names of the destinations declared besides the default one, each a prefix of its keys.

/** `Destinations=dr,backup`: names that make valid environment variable prefixes (`dr_RegionName`). */
export function parseDestinationNames(text: string | undefined, name: string, problems: string[]): string[] {
  const names: string[] = [];
  for (const item of (text ?? '').split(',').map((n) => n.trim())) {
    if (!item) continue;
    if (!/^[A-Za-z][A-Za-z0-9]{0,31}$/.test(item))
      problems.push(
        `${name}: "${item}" is not a destination name: use 1 to 32 letters and digits, starting with a letter, since its keys (<name>_RegionName, <name>_HWAK, ...) must be valid environment variable names`,
      );
    else if (item.toLowerCase() === 'default')
      problems.push(`${name}: "default" is the destination of the keys without prefix; give this one another name`);
    else if (names.includes(item)) problems.push(`${name} names destination "${item}" twice`);
    else names.push(item);
  }
  return names;
}
