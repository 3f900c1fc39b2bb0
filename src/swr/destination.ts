// Everything the service needs to push into SWR, from the configuration (or a manual call's headers):
// the registry host, its login (long-term AK/SK login, or a temporary one renewed before it expires),
// and the management API for namespaces.
import {
  connectionPool,
  type CredentialProvider,
  type CredentialSource,
  type Credentials,
  type ProxyRoutes,
} from '../oci/index.js';
import { accountKeyProblems, hasAccountKeys, type HuaweiAccount } from './account-keys.js';
import { IamTokenSource } from './iam.js';
import { aksklogin } from './login.js';
import { SwrManagementClient, type ManagementAuth, type TemporaryLogin } from './management.js';
import { NamespaceGuard } from './namespaces.js';

export type { HuaweiAccount } from './account-keys.js';

export interface DestinationSettings {
  registry: string;
  /** Explicit registry login (a registry standing in for SWR); otherwise derived from the account. */
  login?: Credentials;
  apiEndpoint: string;
  iamEndpoint: string;
  manageNamespaces: boolean;
  /** Which connections go through a proxy (SWR's and IAM's APIs here); all direct when absent. */
  proxies?: ProxyRoutes;
}

export interface SwrDestination {
  registry: string;
  credentials: CredentialSource;
  /** Absent when the account has no keys (a registry login of its own in SWRUser/SWRPassword). */
  management?: SwrManagementClient;
  namespaces?: NamespaceGuard;
  /** Values to scrub from logs (derived passwords and the like). */
  secrets: string[];
}

/** Renews the temporary login ten minutes before it expires, so a copy never starts with one about to die. */
class TemporaryLoginProvider implements CredentialProvider {
  private current: TemporaryLogin | undefined;
  private pending: Promise<TemporaryLogin> | undefined;

  constructor(private readonly management: SwrManagementClient) {}

  async get(): Promise<Credentials> {
    if (!this.current || this.current.expiresAt - 600_000 < Date.now()) {
      this.pending ??= this.management.temporaryLogin().finally(() => (this.pending = undefined));
      this.current = await this.pending;
    }
    return { username: this.current.username, password: this.current.password };
  }
}

export function swrDestination(account: HuaweiAccount, settings: DestinationSettings): SwrDestination {
  if (!hasAccountKeys(account)) {
    // Only with a registry login of its own (the configuration and the manual call refuse the rest): SWR's
    // management API cannot be called, so namespaces are left as they are and tags are listed by the registry.
    if (!settings.login) throw new Error(accountKeyProblems(account, false).join('; '));
    return { registry: settings.registry, credentials: settings.login, secrets: [] };
  }
  // Without a proxy the global pool serves, as it always has.
  const dispatcher = settings.proxies?.any ? connectionPool({ proxies: settings.proxies }) : undefined;
  let auth: ManagementAuth;
  if (account.authMethod === 'AKSK') {
    auth = { kind: 'aksk', ak: account.ak!, sk: account.sk! };
  } else {
    auth = {
      kind: 'iam',
      tokens: new IamTokenSource({
        endpoint: settings.iamEndpoint,
        domain: account.domain!,
        user: account.user,
        password: account.password!,
        region: account.region,
        dispatcher,
        keyPrefix: account.keyPrefix,
      }),
    };
  }
  const management = new SwrManagementClient(settings.apiEndpoint, auth, account.region, {
    dispatcher,
    keyPrefix: account.keyPrefix,
  });
  let credentials: CredentialSource;
  const secrets: string[] = [];
  if (settings.login) credentials = settings.login;
  else if (account.authMethod === 'AKSK') {
    credentials = aksklogin(account.region, account.ak!, account.sk!);
    secrets.push(credentials.password);
  } else credentials = new TemporaryLoginProvider(management);
  return {
    registry: settings.registry,
    credentials,
    management,
    namespaces: settings.manageNamespaces ? new NamespaceGuard(management) : undefined,
    secrets,
  };
}
