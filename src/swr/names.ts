// SWR's naming rules: what SWR accepts as a namespace (organisation) and a repository name, checked before a
// request reaches SWR so that a bad name is refused with a reason rather than by SWR's API.

/** SWR organisations (namespaces), from the console's own check: lowercase, starts with a letter. */
const SWR_NAMESPACE = /^[a-z]+(?:(?:_|__|-*|\.)[a-z0-9]+)*$/;

export function swrNamespaceProblem(name: string): string | undefined {
  if (name.length < 1 || name.length > 64) return 'must be 1 to 64 characters';
  if (!/^[a-z]/.test(name)) return 'must start with a lowercase letter';
  if (!/[a-z0-9]$/.test(name)) return 'must end with a letter or digit';
  if (!SWR_NAMESPACE.test(name) || /___/.test(name))
    return 'may hold only lowercase letters, digits and single . or -, or up to two _, between letters or digits';
  return undefined;
}

/** SWR repository names: 1-128 chars, lowercase letters, digits and . _ / -, alphanumeric at both ends. */
export function swrRepositoryProblem(name: string): string | undefined {
  if (name.length < 1 || name.length > 128) return `is ${name.length} characters long; SWR takes 1 to 128`;
  if (!/^[a-z0-9]([a-z0-9._/-]*[a-z0-9])?$/.test(name))
    return 'may hold only lowercase letters, digits and . _ / - with a letter or digit at both ends';
  return undefined;
}
