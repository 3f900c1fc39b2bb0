// Owns which Huawei Cloud keys each way of reaching the destination needs, in one rule that app.conf, the old
// manual call and the destination's builder all read:
// - no registry login of its own (SWRUser empty): the login is derived from the account, so HWAuthMethod's keys
//   are required (AKSK: HWAK and HWSK; Password: HWDomain and HWPassword, HWUser empty for the account itself);
// - SWRUser/SWRPassword set: they are the registry login, and the keys only serve SWR's management API (creating
//   namespaces, listing the destination's tags). Without them that API is not used: a warning, not an error.
// Keys given by halves (HWAK without HWSK) are always a mistake.

/**
 * The Huawei Cloud account as app.conf describes it (HWAuthMethod, HWAK/HWSK or HWDomain/HWUser/HWPassword).
 * Declared here rather than taken from Config so that swr/ does not depend on config/ (config/ uses swr/'s names).
 */
export interface HuaweiAccount {
  authMethod: 'AKSK' | 'Password';
  ak?: string;
  sk?: string;
  domain?: string;
  user?: string;
  password?: string;
  region: string;
  /** How app.conf spells these keys: `dr_` for a named destination's (`dr_HWAK`); none for the default. */
  keyPrefix?: string;
}

type AccountKeys = Pick<HuaweiAccount, 'authMethod' | 'ak' | 'sk' | 'domain' | 'password'>;

/** The keys HWAuthMethod asks for, by name, with whether each is given. */
function keysOf(account: AccountKeys): Array<[string, boolean]> {
  return account.authMethod === 'AKSK'
    ? [
        ['HWAK', Boolean(account.ak)],
        ['HWSK', Boolean(account.sk)],
      ]
    : [
        ['HWDomain', Boolean(account.domain)],
        ['HWPassword', Boolean(account.password)],
      ];
}

/** Whether the account can sign SWR's management calls (AK/SK) or get an IAM token (Password). */
export function hasAccountKeys(account: AccountKeys): boolean {
  return keysOf(account).every(([, given]) => given);
}

/**
 * What is wrong with the account's keys for this destination, one sentence per missing key; `prefix` is a named
 * destination's (`dr_`), so that each sentence names the keys as app.conf spells them.
 */
export function accountKeyProblems(account: AccountKeys, ownRegistryLogin: boolean, prefix = ''): string[] {
  const keys = keysOf(account).map(([name, given]): [string, boolean] => [`${prefix}${name}`, given]);
  const missing = keys.filter(([, given]) => !given).map(([name]) => name);
  if (missing.length === 0) return [];
  const method = `${prefix}HWAuthMethod=${account.authMethod}`;
  const other = account.authMethod === 'AKSK' ? `${prefix}HWDomain/${prefix}HWPassword` : `${prefix}HWAK/${prefix}HWSK`;
  if (missing.length < keys.length) {
    const given = keys.filter(([, g]) => g).map(([name]) => name);
    return missing.map((name) => `${name} is required with ${given.join(' and ')} (${method})`);
  }
  if (ownRegistryLogin) return [];
  const password =
    account.authMethod === 'Password' ? ` (${prefix}HWUser may be empty to act as the account itself)` : '';
  return missing.map(
    (name) =>
      `${name} is required when ${method}${password}: the SWR login is derived from it, unless ${prefix}SWRUser/${prefix}SWRPassword give a registry login of their own (or use ${prefix}HWAuthMethod=${account.authMethod === 'AKSK' ? 'Password' : 'AKSK'} with ${other})`,
  );
}

/** What will not work for lack of keys (a warning at start and in check-config), when namespaces are managed. */
export function withoutKeysWarning(
  account: AccountKeys & Pick<HuaweiAccount, 'keyPrefix'>,
  ownRegistryLogin: boolean,
  manageNamespaces: boolean,
): string | undefined {
  if (!ownRegistryLogin || !manageNamespaces || hasAccountKeys(account)) return undefined;
  const k = (key: string) => `${account.keyPrefix ?? ''}${key}`;
  const keys = account.authMethod === 'AKSK' ? `${k('HWAK')}/${k('HWSK')}` : `${k('HWDomain')}/${k('HWPassword')}`;
  return `no Huawei Cloud keys (${keys} for ${k('HWAuthMethod')}=${account.authMethod}): ${k('SWRUser')}/${k('SWRPassword')} log in to the registry, but SWR's management API cannot be used, so namespaces are not created (they must exist already) and the destination's tags are listed through the registry API; set ${keys} for those, or ${k('SWRManageNamespaces')}=false for a registry that is not SWR`;
}
