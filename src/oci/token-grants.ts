// What a Bearer token grants, read from its `access` claim when it is a readable JWT: lets one token asked for
// many repositories be used only for those the token service really granted (a realm may grant less than asked).

interface Access {
  type: string;
  name: string;
  actions: string[];
}

/** The token's `access` claim, or undefined when the token is opaque (not a JWT, or no such claim). */
export function grantedAccess(token: string): Access[] | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  const access = (claims as { access?: unknown } | null)?.access;
  if (!Array.isArray(access)) return undefined;
  return access.filter(
    (a): a is Access =>
      typeof (a as Access)?.type === 'string' &&
      typeof (a as Access).name === 'string' &&
      Array.isArray((a as Access).actions),
  );
}

/** Whether `access` grants every action of `scope` (`type:name:actions`; the name may hold colons). */
export function grants(access: Access[], scope: string): boolean {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first < 0 || last <= first) return false;
  const type = scope.slice(0, first);
  const name = scope.slice(first + 1, last);
  const held = new Set(access.filter((a) => a.type === type && a.name === name).flatMap((a) => a.actions.map(String)));
  return scope
    .slice(last + 1)
    .split(',')
    .filter((action) => action.length > 0)
    .every((action) => held.has(action) || held.has('*'));
}
