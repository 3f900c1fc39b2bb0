// ensureNamespace: before the first push into a namespace, make sure it exists and is ours, creating it when
// absent. A name taken by another tenant is refused with a clear error before any byte is sent.
import { SwrApiError } from './errors.js';
import type { SwrManagementClient } from './management.js';

/** Rights of an account on a namespace (SWR "auth"): 7 manage, 3 edit; 1 (read) cannot push. */
const CAN_PUSH = 3;

export class NamespaceError extends Error {
  /** Retrying does not help until someone changes NamespaceMap or the namespace's owner acts. */
  readonly permanent = true;
  constructor(message: string) {
    super(message);
    this.name = 'NamespaceError';
  }
}

export class NamespaceGuard {
  private readonly ready = new Map<string, Promise<void>>();

  constructor(private readonly client: SwrManagementClient) {}

  ensureNamespace(name: string): Promise<void> {
    let known = this.ready.get(name);
    if (!known) {
      known = this.check(name);
      // A failure is not remembered: the next job asks again (the owner may have fixed it meanwhile).
      known.catch(() => this.ready.delete(name));
      this.ready.set(name, known);
    }
    return known;
  }

  /** Read-only look for check-config: ours and pushable, or absent (created at the first push). */
  async describe(name: string): Promise<string> {
    const found = (await this.client.listNamespaces()).find((n) => n.name === name);
    if (!found) return 'not there yet: created at the first push (unless another account owns the name)';
    requirePush(name, found.auth);
    return 'exists, pushable';
  }

  private async check(name: string): Promise<void> {
    const ours = async () => (await this.client.listNamespaces()).find((n) => n.name === name);
    const existing = await ours();
    if (existing) return requirePush(name, existing.auth);
    let outcome: 'created' | 'exists';
    try {
      outcome = await this.client.createNamespace(name);
    } catch (error) {
      if (error instanceof SwrApiError)
        throw new NamespaceError(`SWR namespace "${name}" could not be created: ${error.message}`);
      throw error;
    }
    if (outcome === 'created') return;
    const again = await ours();
    if (again) return requirePush(name, again.auth);
    throw new NamespaceError(
      `SWR namespace "${name}" belongs to another Huawei Cloud account (namespace names are unique per region); nothing was pushed. Map the project to a namespace of your own in NamespaceMap`,
    );
  }
}

function requirePush(name: string, auth: number | undefined): void {
  if (auth !== undefined && auth < CAN_PUSH) {
    throw new NamespaceError(
      `the account may only read SWR namespace "${name}"; grant it edit or manage rights on the namespace`,
    );
  }
}
