// Owns startHarbor(): a Harbor stand-in on one loopback port (REST API, /service/token and the
// /v2/ registry front, as Harbor's external URL serves them) over a real backing registry, firing
// the projects' webhook policies on pushes as Harbor does.
import { Agent, createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { startRegistry, type RunningRegistry } from '../registry.js';
import type { RegistryAccess } from '../registry-http.js';
import { handleApi } from './api.js';
import { handleApiV1 } from './api-v1.js';
import { sendSystemInfoV2, VERSION_STRINGS } from './systeminfo.js';
import { Auth, projectOf, type HarborUser } from './auth.js';
import { Backing } from './backing.js';
import { sendError } from './http.js';
import { handleV2 } from './registry-front.js';
import { HarborState } from './state.js';
import { policyJson, WebhookDeliverer, type WebhookDelivery } from './webhook-policies.js';
import {
  harborCloudEventsPayload,
  harborDefaultPayload,
  type CloudEventType,
  type HarborEventType,
  type PushEvent,
} from './webhooks.js';
import { handleVersionedApi } from './versioned-api.js';
import { listenOnLoopback } from '../ports.js';

export {
  multiArchPushEvents,
  distributionEnvelope,
  harborDefaultPayload,
  harborCloudEventsPayload,
} from './webhooks.js';
export type { PushEvent, RegistryEvent, HarborSite, HarborEventType, EnvelopeOptions } from './webhooks.js';
export type { HarborUser, ProjectRole } from './auth.js';
export type { WebhookDelivery } from './webhook-policies.js';

/** A webhook policy as Harbor's API answers it (swagger `WebhookPolicy`). */
export interface WebhookPolicyJson {
  id: number;
  name: string;
  description?: string;
  project_id: number;
  enabled: boolean;
  event_types: string[];
  targets: Array<{
    type: string;
    address: string;
    auth_header?: string;
    skip_cert_verify?: boolean;
    payload_format?: string;
  }>;
  creator: string;
  creation_time: string;
  update_time: string;
}

export interface HarborOptions {
  projects: Array<{ name: string; public: boolean }>;
  /** Default admin / Harbor12345; also the only user. */
  admin?: { username: string; password: string };
  /** expires_in of /service/token, default 1800 as Harbor's TOKEN_EXPIRATION. */
  tokenExpiresIn?: number;
  /** Non-admin users and their project roles; only the webhook-policy API tells them apart from anonymous. */
  users?: HarborUser[];
  /**
   * Which Harbor to play (default '2.3', the newest API shape): '1.10' is API v1 under /api/ with a Bearer-only
   * /v2/ and pushImage webhook policies; '2.0' to '2.2' have /api/v2.0 without the by-name project routes.
   * '1.8' is API v1 without webhook policies (only the registry's notifications).
   */
  version?: '1.8' | '1.10' | '2.0' | '2.1' | '2.2' | '2.3';
  /**
   * Host name in Harbor's external URL (its token realm and systeminfo), default 127.0.0.1: `localhost` plays a
   * Harbor configured under another name than the address the service is given.
   */
  externalHost?: string;
}

export interface HarborRequest {
  method: string;
  path: string;
  status: number;
  /** The caller's User-Agent header, as Harbor's access log shows it. */
  userAgent?: string;
}

export interface HarborStandIn {
  url: string;
  host: string;
  registry: RunningRegistry;
  access: RegistryAccess;
  addProject(name: string, isPublic: boolean): void;
  /** Harbor's "add tag" API: tags an existing manifest in the registry and fires no webhook. */
  addTag(repo: string, digest: string, tag: string): Promise<void>;
  /**
   * Harbor's labels: makes the global label `name` if there is none (POST /labels, scope g) and puts it on the
   * artifact (POST .../artifacts/{digest}/labels); fires no webhook, as Harbor does not for labels.
   */
  addLabel(repo: string, digest: string, name: string): void;
  requests: HarborRequest[];
  webhookPayload(kind: 'default' | 'cloudevents', event: PushEvent): { body: string; contentType: string };
  /** The stored webhook policies of a project (all projects when omitted), as the API answers them. */
  webhookPolicies(project?: string): WebhookPolicyJson[];
  /** Every webhook delivery attempted so far (one per policy target and push), updated as attempts go. */
  webhookDeliveries: WebhookDelivery[];
  stop(): Promise<void>;
}

export async function startHarbor(options: HarborOptions): Promise<HarborStandIn> {
  const admin = options.admin ?? { username: 'admin', password: 'Harbor12345' };
  const registry = await startRegistry({ auth: 'none' });
  const version = options.version ?? '2.3';
  const state = new HarborState();
  state.adminName = admin.username;
  for (const p of options.projects) state.addProject(p.name, p.public);
  const auth = new Auth(admin, state, options.tokenExpiresIn ?? 1800, options.users);
  const backing = new Backing(registry.url);
  const agent = new Agent({ keepAlive: true });
  const requests: HarborRequest[] = [];
  let externalUrl = '';
  let host = '';

  const payload = (
    kind: 'default' | 'cloudevents',
    event: PushEvent,
    policyId?: number,
    type: HarborEventType = 'PUSH_ARTIFACT',
  ): { body: string; contentType: string } => {
    const project = state.project(event.project);
    if (!project) throw new Error(`webhookPayload: unknown project ${event.project}`);
    const repo = `${event.project}/${event.repository}`;
    const site = {
      host,
      projectId: project.id,
      public: project.public,
      repoCreated: Math.floor(Date.parse(state.repositoryTimes(repo).creationTime) / 1000),
      policyId,
    };
    return kind === 'default'
      ? harborDefaultPayload(type, event, site)
      : harborCloudEventsPayload(type as CloudEventType, event, site);
  };
  const deliverer = new WebhookDeliverer(
    state,
    payload,
    undefined,
    version.startsWith('1.') ? 'pushImage' : 'PUSH_ARTIFACT',
  );
  // Only the admin can push through the front, so every push is the admin's.
  const onManifestPush = (repo: string, digest: string, tag: string | undefined) =>
    deliverer.pushed(repo, digest, tag, admin.username);
  const onArtifactDeleted = (repo: string, digest: string, tags: string[]) =>
    deliverer.deleted(repo, digest, tags, admin.username);

  const dispatch = (req: IncomingMessage, res: ServerResponse, entry: HarborRequest): void => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/v2' || path.startsWith('/v2/')) {
      handleV2(
        req,
        res,
        {
          state,
          auth,
          backingUrl: new URL(registry.url),
          externalUrl,
          agent,
          onManifestPush,
          bearerOnly: version.startsWith('1.'),
        },
        (s) => (entry.status = s),
      );
      return;
    }
    if (handleVersionedApi(req, res, { state, auth, version })) return;
    // The API reads the bodies it takes itself.
    if (!path.startsWith('/api/v2.0/')) req.resume();
    if (path === '/service/token' && req.method === 'GET') {
      auth.handleToken(req, res, new URL(req.url ?? '/', externalUrl));
    } else if (version.startsWith('1.') && path.startsWith('/api/v2.0/')) {
      // Harbor 1.x has no API v2.0: beego's plain 404 page.
      req.resume();
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('404 page not found\n');
    } else if (version.startsWith('1.') && path.startsWith('/api/')) {
      handleApiV1(req, res, {
        state,
        auth,
        backing,
        externalUrl: () => externalUrl,
        version: VERSION_STRINGS[version],
        onArtifactDeleted,
      }).catch((err: Error) => {
        if (!res.headersSent)
          res
            .writeHead(500, { 'content-type': 'text/plain; charset=utf-8' })
            .end(`{"code":500,"message":"stand-in failure: ${err.message}"}\n`);
        else res.destroy(err);
      });
    } else if (path === '/api/v2.0/systeminfo' && req.method === 'GET') {
      req.resume();
      // Harbor's security middleware lets a failed Basic login through as anonymous: systeminfo still answers.
      const identity = auth.identify(req).kind;
      sendSystemInfoV2(res, version, externalUrl, identity === 'admin' || identity === 'user');
    } else if (path.startsWith('/api/v2.0/')) {
      handleApi(req, res, {
        state,
        auth,
        backing,
        version: version === '1.8' || version === '1.10' ? undefined : version,
        onArtifactDeleted,
      }).catch((err: Error) => {
        if (!res.headersSent) sendError(res, 500, 'UNKNOWN', `stand-in failure: ${err.message}`);
        else res.destroy(err);
      });
    } else {
      sendError(res, 404, 'NOT_FOUND', `path ${path} was not found`);
    }
  };

  const server = createServer({ keepAlive: true, requestTimeout: 0 }, (req, res) => {
    const entry: HarborRequest = {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      status: 0,
      userAgent: req.headers['user-agent'],
    };
    requests.push(entry);
    // The status that reached the wire, whatever path answered.
    res.on('finish', () => {
      entry.status = res.statusCode;
    });
    dispatch(req, res, entry);
  });

  let port: number;
  try {
    port = await listenOnLoopback(server);
  } catch (err) {
    await deliverer.stop(0);
    await registry.stop();
    throw err;
  }
  host = `127.0.0.1:${port}`;
  externalUrl = `http://${options.externalHost ?? '127.0.0.1'}:${port}`;

  let stopped = false;
  return {
    url: `http://${host}`,
    host,
    registry,
    // Harbor 1.x's /v2/ takes Bearer tokens only: the fixtures then fetch them from /service/token.
    access: version.startsWith('1.')
      ? {
          url: `http://${host}`,
          auth: 'token',
          username: admin.username,
          password: admin.password,
          tokenServer: { realm: `http://${host}/service/token`, service: 'harbor-registry' },
        }
      : { url: `http://${host}`, auth: 'htpasswd', username: admin.username, password: admin.password },
    addProject: (name, isPublic) => {
      state.addProject(name, isPublic);
    },
    addTag: async (repo, digest, tag) => {
      if (!state.project(projectOf(repo))) throw new Error(`addTag: project of ${repo} not found`);
      await backing.tagManifest(repo, digest, tag);
      state.tagTimes.set(`${repo}:${tag}`, new Date().toISOString());
    },
    addLabel: (repo, digest, name) => {
      if (!state.project(projectOf(repo))) throw new Error(`addLabel: project of ${repo} not found`);
      const key = `${repo}@${digest}`;
      const id = state.globalLabel(name).id;
      const ids = state.artifactLabels.get(key) ?? [];
      // Harbor answers 409 for a label already on the artifact; the helper just keeps one.
      if (!ids.includes(id)) state.artifactLabels.set(key, [...ids, id]);
    },
    requests,
    webhookPayload: (kind, event) => payload(kind, event),
    webhookPolicies: (project) => {
      const id = project === undefined ? undefined : state.project(project)?.id;
      if (project !== undefined && id === undefined) throw new Error(`webhookPolicies: unknown project ${project}`);
      return state.webhookPolicies
        .filter((p) => id === undefined || p.projectId === id)
        .map((p) => policyJson(p) as WebhookPolicyJson);
    },
    webhookDeliveries: deliverer.deliveries,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await deliverer.stop();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      agent.destroy();
      await closed;
      await backing.close();
      await registry.stop();
    },
  };
}
