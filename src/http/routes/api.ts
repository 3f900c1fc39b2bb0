// /api/v1: project syncs with the configured credentials, and the jobs they and the webhook created.
import { Router, json } from 'express';
import type { JobState } from '../../jobs/types.js';
import { requestProjectSync } from '../../service/sync-requests.js';
import type { SyncService } from '../../service/sync-service.js';
import { requireApiToken } from '../auth.js';
import { HttpError, badRequest, storeUnavailable } from '../errors.js';
import { optionalFilters } from '../filter-fields.js';
import { namespaceName, optionalBoolean, optionalNames, projectName, requireUtf8 } from '../validate.js';

const STATES: JobState[] = ['queued', 'running', 'succeeded', 'failed', 'skipped'];
const SYNC_FIELDS = new Set(['project', 'namespace', 'repositories', 'tags', 'filters', 'overwrite', 'dryRun']);

export function apiRoutes(service: SyncService): Router {
  const router = Router();
  router.use('/api/v1', requireApiToken(service.config.apiToken));

  router.post('/api/v1/sync', json({ limit: '256kb', verify: requireUtf8 }), async (req, res, next) => {
    try {
      const body = req.body as Record<string, unknown> | undefined;
      if (!body || typeof body !== 'object' || Array.isArray(body))
        throw badRequest(
          'send a JSON object: {"project": "...", "namespace"?, "repositories"?, "tags"?, "filters"?, "overwrite"?, "dryRun"?}',
        );
      const unknown = Object.keys(body).filter((k) => !SYNC_FIELDS.has(k));
      if (unknown.length > 0)
        throw badRequest(`unknown field(s) ${unknown.join(', ')}; allowed: ${[...SYNC_FIELDS].join(', ')}`);
      const project = projectName(body.project, 'project');
      const mapped = service.config.namespaceMap.get(project);
      if (body.namespace === undefined && !mapped)
        throw badRequest(
          `project "${project}" is not in NamespaceMap: give "namespace" or add the project to NamespaceMap`,
        );
      // Only an absent namespace falls back to the map: null is a wrong type, as for every other field.
      const namespace = namespaceName(body.namespace === undefined ? mapped : body.namespace, 'namespace');
      const spec = {
        kind: 'project' as const,
        project,
        namespace,
        repositories: optionalNames(body.repositories, 'repositories', 'repository'),
        tags: optionalNames(body.tags, 'tags', 'tag'),
        filters: optionalFilters(body.filters),
        overwrite: optionalBoolean(body.overwrite, 'overwrite'),
        dryRun: optionalBoolean(body.dryRun, 'dryRun'),
      };
      const job = await requestProjectSync(service, spec);
      res.status(202).json({ jobId: job.id, state: job.state, status: `/api/v1/jobs/${job.id}` });
    } catch (error) {
      next(error);
    }
  });

  router.get('/api/v1/jobs', async (req, res, next) => {
    try {
      const state = req.query.state;
      if (state !== undefined && !STATES.includes(state as JobState))
        throw badRequest(`state must be one of ${STATES.join(', ')}`);
      const project = req.query.project === undefined ? undefined : projectName(req.query.project, 'project');
      const limit = req.query.limit === undefined ? 100 : Number(req.query.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
        throw badRequest('limit must be a whole number from 1 to 1000');
      const jobs = await service
        .jobs({ state: state as JobState | undefined, project, limit })
        .catch((error: unknown) => Promise.reject(storeUnavailable(error)));
      res.json({ jobs });
    } catch (error) {
      next(error);
    }
  });

  router.get('/api/v1/jobs/:id', async (req, res, next) => {
    if (!/^[0-9a-f-]{36}$/.test(req.params.id))
      return next(badRequest('a job id is a UUID, as returned when the job was queued'));
    try {
      const job = await service.job(req.params.id);
      if (!job) return next(new HttpError(404, 'JOB_NOT_FOUND', `no job ${req.params.id}`));
      res.json(job);
    } catch (error) {
      next(storeUnavailable(error));
    }
  });
  return router;
}
