// Name rules shared by configuration and requests: Harbor projects, SWR namespaces, repositories, tags.

/** Harbor project names: lowercase letters, digits and . _ -, starting and ending alphanumeric, 1-255. */
const HARBOR_PROJECT = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
/** SWR organisations (namespaces), from the console's own check: lowercase, starts with a letter. */
const SWR_NAMESPACE = /^[a-z]+(?:(?:_|__|-*|\.)[a-z0-9]+)*$/;

export function harborProjectProblem(name: string): string | undefined {
  if (name.length < 1 || name.length > 255) return 'must be 1 to 255 characters';
  if (!HARBOR_PROJECT.test(name)) return 'may hold only lowercase letters, digits and . _ - between letters or digits';
  return undefined;
}

export function swrNamespaceProblem(name: string): string | undefined {
  if (name.length < 1 || name.length > 64) return 'must be 1 to 64 characters';
  if (!/^[a-z]/.test(name)) return 'must start with a lowercase letter';
  if (!/[a-z0-9]$/.test(name)) return 'must end with a letter or digit';
  if (!SWR_NAMESPACE.test(name) || /___/.test(name)) return 'may hold only lowercase letters, digits and single . or -, or up to two _, between letters or digits';
  return undefined;
}

/** SWR repository names: 1-128 chars, lowercase letters, digits and . _ / -, alphanumeric at both ends. */
export function swrRepositoryProblem(name: string): string | undefined {
  if (name.length < 1 || name.length > 128) return `is ${name.length} characters long; SWR takes 1 to 128`;
  if (!/^[a-z0-9]([a-z0-9._/-]*[a-z0-9])?$/.test(name)) return 'may hold only lowercase letters, digits and . _ / - with a letter or digit at both ends';
  return undefined;
}
