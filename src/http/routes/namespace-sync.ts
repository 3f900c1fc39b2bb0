// POST /service/synchronization/namespace: the old tool's manual call, header for header. Checks what the
// old tool checked (project, Harbor and Huawei credentials, region, namespace) before queueing the sync.
import { Router, type Request } from 'express';
import { isKnownRegion, SWR_REGIONS } from '../../config/regions.js';
import type { SyncService } from '../../service/sync-service.js';
import { checkDestination, checkHarborProject, checkNamespace } from '../../service/checks.js';
import { credentialsFor } from '../../service/contexts.js';
import type { HuaweiAccount } from '../../swr/destination.js';
import { Redactor } from '../../logging/redact.js';
import { requireApiToken } from '../auth.js';
import { HttpError, badRequest } from '../errors.js';
import { namespaceName, optionalBoolean, projectName } from '../validate.js';

const CREDENTIAL_HEADERS = ['HarborUser', 'HarborPassword', 'HWAK', 'HWSK', 'HWDomain', 'HWUser', 'HWPassword'];
const SECRET_HEADERS = ['HWSK', 'HWPassword', 'HarborPassword'];
/** Shorter header secrets are refused: too short to scrub from logs without mangling them (see Redactor). */
const MIN_HEADER_SECRET = 8;

function header(req: Request, name: string): string | undefined {
  const value = req.get(name)?.trim();
  return value === '' ? undefined : value;
}

export function namespaceSyncRoute(service: SyncService): Router {
  const router = Router();
  const config = service.config;
  router.post('/service/synchronization/namespace', requireApiToken(config.apiToken), async (req, res, next) => {
    // This call's secrets are hidden in its own answer only; the service-wide redactor holds them only for an
    // accepted job, so that a refused call can neither grow it nor blank out words of later log lines.
    const ownSecrets = new Redactor();
    ownSecrets.add(...SECRET_HEADERS.map((h) => header(req, h)));
    try {
      const given = CREDENTIAL_HEADERS.filter((h) => header(req, h) !== undefined);
      if (!config.allowHeaderCredentials && given.length > 0) {
        throw new HttpError(403, 'HEADER_CREDENTIALS_DISABLED', `credentials in request headers are turned off (AllowHeaderCredentials=false): drop ${given.join(', ')} and the configured credentials are used`);
      }
      const short = SECRET_HEADERS.find((h) => (header(req, h)?.length ?? MIN_HEADER_SECRET) < MIN_HEADER_SECRET);
      if (short) throw badRequest(`the ${short} header is shorter than ${MIN_HEADER_SECRET} characters: send the real secret, or leave the header out to use the configured one`);
      const project = projectName(header(req, 'Projectname'), 'Projectname header');
      const namespace = namespaceName(header(req, 'Namespace') ?? config.namespaceMap.get(project), 'Namespace header');
      const region = header(req, 'RegionName') ?? config.hw.region;
      if (!isKnownRegion(region)) throw badRequest(`RegionName "${region}" is not a region SWR serves; use one of ${SWR_REGIONS.join(', ')}`);
      const overwrite = optionalBoolean(header(req, 'ImageOverwrite'), 'ImageOverwrite header');

      const harborUser = header(req, 'HarborUser') ?? config.harbor.user;
      const harborPassword = header(req, 'HarborUser') ? header(req, 'HarborPassword') : config.harbor.password;
      const account = huaweiAccount(req, service, region);
      const credentials = credentialsFor(config, account, { user: harborUser, password: harborPassword });

      // As the old tool: a public project needs no Harbor credentials; a private one must accept them.
      const anonymous = service.harbor.withCredentials(undefined, undefined);
      let visible: { public: boolean } | undefined;
      try {
        visible = await checkHarborProject(anonymous, project);
      } catch (error) {
        if (!(error instanceof HttpError) || error.status !== 401) throw error;
      } finally {
        await anonymous.close();
      }
      // Credentials that were sent are checked even for a public project: the job would use them and fail later.
      if (!visible?.public || header(req, 'HarborUser')) {
        if (!harborUser) throw new HttpError(401, 'HARBOR_CREDENTIALS', `project "${project}" is private or unknown to anonymous users: send HarborUser and HarborPassword`);
        const withCredentials = service.harbor.withCredentials(harborUser, harborPassword);
        try {
          await checkHarborProject(withCredentials, project);
        } finally {
          await withCredentials.close();
        }
      }
      await checkDestination(config, credentials.registry, credentials.destination);
      await checkNamespace(credentials.namespaces, namespace);

      if (service.queue.backend === 'redis' && given.length > 0) {
        // Request credentials live in this process's memory only, and any replica may run the job. Checked
        // last, so that every other mistake in the call is reported first, as on one instance.
        throw new HttpError(409, 'HEADER_CREDENTIALS_NEED_ONE_INSTANCE', `with QueueBackend=redis the job may run on another replica, which would not have credentials sent in headers: drop ${given.join(', ')} to use the configured ones, or put them in app.conf`);
      }
      // Hidden from every log line and job record until the job ends (SyncService.settled releases them).
      const release = service.redactor.hold([harborPassword, account.sk, account.password, ...credentials.secrets]);
      const job = await service.queueProject({ kind: 'project', project, namespace, overwrite, requestCredentials: given.length > 0 }, credentials, release).catch((error: unknown) => {
        release();
        throw error;
      });
      res.status(202).json({ jobId: job.id, state: job.state, status: `/api/v1/jobs/${job.id}` });
    } catch (error) {
      if (error instanceof Error) error.message = ownSecrets.redact(error.message);
      next(error);
    }
  });
  return router;
}

/** The account for the call: each method's own headers when sent, else the configured values (as the old tool's optional headers). */
function huaweiAccount(req: Request, service: SyncService, region: string): HuaweiAccount {
  const config = service.config.hw;
  const method = header(req, 'HWAuthMethod') ?? config.authMethod;
  const authMethod = /^AKSK$/i.test(method) ? 'AKSK' : /^Password$/i.test(method) ? 'Password' : undefined;
  if (!authMethod) throw badRequest(`HWAuthMethod must be AKSK or Password, got "${method}"`);
  if (authMethod === 'AKSK') {
    const fromHeaders = header(req, 'HWAK') !== undefined || header(req, 'HWSK') !== undefined;
    const ak = fromHeaders ? header(req, 'HWAK') : config.ak;
    const sk = fromHeaders ? header(req, 'HWSK') : config.sk;
    if (!ak || !sk) throw badRequest('HWAK and HWSK are required with HWAuthMethod=AKSK');
    return { authMethod, ak, sk, region };
  }
  const fromHeaders = ['HWDomain', 'HWUser', 'HWPassword'].some((h) => header(req, h) !== undefined);
  const domain = fromHeaders ? header(req, 'HWDomain') : config.domain;
  const password = fromHeaders ? header(req, 'HWPassword') : config.password;
  if (!domain || !password) throw badRequest('HWDomain and HWPassword (and HWUser, unless acting as the account itself) are required with HWAuthMethod=Password');
  return { authMethod, domain, user: fromHeaders ? header(req, 'HWUser') : config.user, password, region };
}
