// The checks the old tool made before accepting a manual project sync, each failure answered with the
// status and sentence that tell the caller which of its inputs is wrong.
import type { Config } from '../config/config.js';
import { HarborError } from '../harbor/client.js';
import type { SelectedSource } from '../harbor/selected-source.js';
import { HttpError } from '../http/errors.js';
import { RegistryClient, RegistryError, type CredentialSource } from '../oci/index.js';
import { SwrApiError } from '../swr/errors.js';
import { NamespaceError, type NamespaceGuard } from '../swr/namespaces.js';

export async function checkHarborProject(harbor: SelectedSource, project: string): Promise<{ public: boolean }> {
  try {
    const found = await harbor.getProject(project);
    // Harbor's project lists (1.x, 2.0, 2.1) show anonymous callers public projects only: unlisted is not unknown.
    if (!found && !harbor.hasCredentials) throw new HttpError(401, 'HARBOR_CREDENTIALS', `project "${project}" is not visible to anonymous users of Harbor: send HarborUser and HarborPassword`);
    if (!found) throw new HttpError(404, 'PROJECT_NOT_FOUND', `Harbor has no project "${project}"; check Projectname`);
    return { public: found.public };
  } catch (error) {
    if (error instanceof HttpError) throw error;
    if (error instanceof HarborError) {
      if (error.status === 401 || error.status === 403) {
        // Harbor answers 401 for a private project asked without (valid) credentials.
        throw new HttpError(401, 'HARBOR_CREDENTIALS', `Harbor refused access to project "${project}": check HarborUser and HarborPassword (a private project needs them)`);
      }
      if (error.status === 0) throw new HttpError(502, 'HARBOR_UNREACHABLE', error.message);
    }
    throw new HttpError(502, 'HARBOR_ERROR', `Harbor could not be asked about project "${project}": ${(error as Error).message}`);
  }
}

/** Reaching the registry and getting past its authentication proves the account, password and region. */
export async function checkDestination(config: Config, registry: string, credentials: CredentialSource): Promise<void> {
  const client = new RegistryClient({ host: registry, insecure: config.swr.protocol === 'http', skipTlsVerify: config.swr.skipTlsVerify, caCertificate: config.swr.caCertificate, credentials, retry: { retries: 1 }, tokenRealmHosts: config.tokenRealmHosts });
  try {
    await client.ping();
  } catch (error) {
    if (error instanceof RegistryError && (error.status === 401 || error.status === 403)) {
      throw new HttpError(401, 'HUAWEI_CREDENTIALS', `${registry} refused the Huawei Cloud credentials: check HWAK/HWSK (or HWDomain/HWUser/HWPassword) and that RegionName is the region of that account`);
    }
    if (error instanceof SwrApiError) throw new HttpError(error.status === 401 || error.status === 400 ? 401 : 502, 'HUAWEI_CREDENTIALS', error.message);
    if (error instanceof RegistryError && error.status === 0) {
      throw new HttpError(502, 'SWR_UNREACHABLE', `cannot reach ${registry}: check RegionName and the network from this host`);
    }
    throw new HttpError(502, 'SWR_ERROR', `${registry} answered unexpectedly: ${(error as Error).message}`);
  } finally {
    await client.close();
  }
}

/** The namespace exists and is ours, or was just created; owned by another tenant is a 409. */
export async function checkNamespace(guard: NamespaceGuard | undefined, namespace: string): Promise<void> {
  if (!guard) return;
  try {
    await guard.ensureNamespace(namespace);
  } catch (error) {
    if (error instanceof NamespaceError) throw new HttpError(/another Huawei Cloud account/.test(error.message) ? 409 : 403, 'NAMESPACE_UNUSABLE', error.message);
    if (error instanceof SwrApiError) throw new HttpError(error.status === 401 ? 401 : 502, 'SWR_API', error.message);
    throw error;
  }
}
