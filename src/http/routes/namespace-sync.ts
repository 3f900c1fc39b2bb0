// POST /service/synchronization/namespace: the old tool's manual call, header for header. Reads and validates
// the headers, then hands the call to its use case (service/sync-requests.ts), which checks what the old tool
// checked (project, Harbor and Huawei credentials, region, namespace) before queueing the sync.
import { Router, type Request } from 'express';
import { isKnownRegion, SWR_REGIONS } from '../../config/regions.js';
import { Redactor } from '../../logging/redact.js';
import { refuseSentCredentials, requestManualSync } from '../../service/sync-requests.js';
import type { SyncService } from '../../service/sync-service.js';
import { requireApiToken } from '../auth.js';
import { badRequest } from '../errors.js';
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
      const sentCredentials = CREDENTIAL_HEADERS.filter((h) => header(req, h) !== undefined);
      // Ahead of the checks of the headers' values, as the old tool answered.
      refuseSentCredentials(config, sentCredentials);
      const short = SECRET_HEADERS.find((h) => (header(req, h)?.length ?? MIN_HEADER_SECRET) < MIN_HEADER_SECRET);
      if (short)
        throw badRequest(
          `the ${short} header is shorter than ${MIN_HEADER_SECRET} characters: send the real secret, or leave the header out to use the configured one`,
        );
      const project = projectName(header(req, 'Projectname'), 'Projectname header');
      const namespace = namespaceName(header(req, 'Namespace') ?? config.namespaceMap.get(project), 'Namespace header');
      const region = header(req, 'RegionName') ?? config.hw.region;
      if (!isKnownRegion(region))
        throw badRequest(`RegionName "${region}" is not a region SWR serves; use one of ${SWR_REGIONS.join(', ')}`);
      const overwrite = optionalBoolean(header(req, 'ImageOverwrite'), 'ImageOverwrite header');

      const job = await requestManualSync(service, {
        project,
        namespace,
        region,
        overwrite,
        sentCredentials,
        harbor: { user: header(req, 'HarborUser'), password: header(req, 'HarborPassword') },
        huawei: {
          authMethod: header(req, 'HWAuthMethod'),
          ak: header(req, 'HWAK'),
          sk: header(req, 'HWSK'),
          domain: header(req, 'HWDomain'),
          user: header(req, 'HWUser'),
          password: header(req, 'HWPassword'),
        },
      });
      res.status(202).json({ jobId: job.id, state: job.state, status: `/api/v1/jobs/${job.id}` });
    } catch (error) {
      if (error instanceof Error) error.message = ownSecrets.redact(error.message);
      next(error);
    }
  });
  return router;
}
