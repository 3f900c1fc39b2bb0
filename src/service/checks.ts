// The checks the old tool made before accepting a manual project sync, each failure a Refusal whose reason
// and sentence tell the caller which of its inputs is wrong.
import type { Config } from '../config/config.js';
import { HarborError } from '../harbor/client.js';
import type { SelectedSource } from '../harbor/selected-source.js';
import { hasCode, RegistryError, type CredentialSource, type RequestPacer } from '../oci/index.js';
import { SwrApiError } from '../swr/errors.js';
import { NamespaceError, type NamespaceGuard } from '../swr/namespaces.js';
import { destinationClient } from './clients.js';
import { Refusal } from './refusal.js';

/** How a caller named the project and can give Harbor credentials, so that a refusal points at what it sent. */
export interface ProjectCaller {
  project: string;
  credentials: string;
}

/** POST /api/v1/sync: a JSON body; Harbor is asked with the configured credentials. */
export const API_CALLER: ProjectCaller = {
  project: 'the "project" field',
  credentials: 'set HarborUser and HarborPassword in app.conf',
};

/** The old tool's manual call: headers, which may bring Harbor credentials of their own. */
export const OLD_CALL_CALLER: ProjectCaller = {
  project: 'the Projectname header',
  credentials: 'send the HarborUser and HarborPassword headers',
};

/** The project is in Harbor and readable by the credentials `harbor` has. */
export async function checkHarborProject(
  harbor: SelectedSource,
  project: string,
  caller: ProjectCaller,
): Promise<{ public: boolean }> {
  try {
    const found = await harbor.getProject(project);
    // Harbor's project lists (1.x, 2.0, 2.1) show anonymous callers public projects only: unlisted is not unknown.
    if (!found && !harbor.hasCredentials)
      throw new Refusal(
        'harbor-credentials',
        `project "${project}" is not visible to anonymous users of Harbor: ${caller.credentials}`,
      );
    if (!found) throw new Refusal('project-not-found', `Harbor has no project "${project}"; check ${caller.project}`);
    return { public: found.public };
  } catch (error) {
    if (error instanceof Refusal) throw error;
    if (error instanceof HarborError) {
      if (error.status === 401 || error.status === 403) {
        // Harbor answers 401 for a private project asked without (valid) credentials.
        throw new Refusal(
          'harbor-credentials',
          `Harbor refused access to project "${project}": check HarborUser and HarborPassword (a private project needs them)`,
        );
      }
      if (error.status === 0) throw new Refusal('harbor-unreachable', error.message);
      // HarborAddr is not Harbor: no project name the caller could send would help; the message says what would.
      if (error.code === 'NO_API') throw new Refusal('not-harbor', error.message);
    }
    throw new Refusal(
      'harbor-error',
      `Harbor could not be asked about project "${project}": ${(error as Error).message}`,
    );
  }
}

/** Reaching the registry and getting past its authentication proves the account, password and region. */
export async function checkDestination(
  config: Config,
  registry: string,
  credentials: CredentialSource,
  pacer?: RequestPacer,
): Promise<void> {
  const client = destinationClient(config, registry, credentials, { pacer });
  try {
    await client.ping();
  } catch (error) {
    if (error instanceof RegistryError && (error.status === 401 || error.status === 403)) {
      throw new Refusal(
        'huawei-credentials',
        `${registry} refused the Huawei Cloud credentials: check HWAK/HWSK (or HWDomain/HWUser/HWPassword) and that RegionName is the region of that account`,
      );
    }
    if (error instanceof SwrApiError)
      throw new Refusal(
        error.status === 401 || error.status === 400 ? 'huawei-credentials' : 'huawei-credentials-unchecked',
        error.message,
      );
    // The other protocol is certain, and its message names the key to change (SWRProtocol): pass it on.
    if (hasCode(error, 'TLS_MISMATCH'))
      throw new Refusal('swr-unreachable', `cannot reach ${registry}: ${error.message}`);
    if (error instanceof RegistryError && error.status === 0) {
      throw new Refusal('swr-unreachable', `cannot reach ${registry}: check RegionName and the network from this host`);
    }
    throw new Refusal('swr-error', `${registry} answered unexpectedly: ${(error as Error).message}`);
  } finally {
    await client.close();
  }
}

/** The namespace exists and is ours, or was just created; owned by another tenant is a conflict. */
export async function checkNamespace(guard: NamespaceGuard | undefined, namespace: string): Promise<void> {
  if (!guard) return;
  try {
    await guard.ensureNamespace(namespace);
  } catch (error) {
    if (error instanceof NamespaceError)
      throw new Refusal(
        /another Huawei Cloud account/.test(error.message) ? 'namespace-taken' : 'namespace-forbidden',
        error.message,
      );
    if (error instanceof SwrApiError)
      throw new Refusal(error.status === 401 ? 'swr-api-credentials' : 'swr-api-error', error.message);
    throw error;
  }
}
