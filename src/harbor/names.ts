// Harbor's naming rules: what Harbor accepts as a project name, checked by configuration, requests and logs.

/** Harbor project names: lowercase letters, digits and . _ -, starting and ending alphanumeric, 1-255. */
const HARBOR_PROJECT = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;

export function harborProjectProblem(name: string): string | undefined {
  if (name.length < 1 || name.length > 255) return 'must be 1 to 255 characters';
  if (!HARBOR_PROJECT.test(name)) return 'may hold only lowercase letters, digits and . _ - between letters or digits';
  return undefined;
}
