// Owns Harbor's project webhook policies: the REST endpoints (/projects/{p}/webhook/policies[/{id}]) with
// Harbor's RBAC (project admin or system admin; maintainers may list), validation (400), unique names per
// project (409) and JSON shapes, and delivering PUSH_ARTIFACT and DELETE_ARTIFACT (1.x: pushImage, deleteImage)
// to every enabled policy's targets the way Harbor's jobservice does (POST, Authorization = auth_header
// verbatim, 2xx = success, 3 attempts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Agent, request } from 'undici';
import type { Identity, ProjectRole } from './auth.js';
import { sendError, sendJson } from './http.js';
import { pagingHeaders, parsePage, slicePage } from './paging.js';
import { sameProjectName, type PolicyDialect } from './policy-dialects.js';
import type { HarborState, Project, WebhookPolicyRecord, WebhookTargetRecord } from './state.js';
import type { HarborEventType, PushEvent } from './webhooks.js';

/** Harbor's src/pkg/notification SupportedEventTypes and SupportedNotifyTypes. */
export const SUPPORTED_EVENT_TYPES = [
  'PUSH_ARTIFACT',
  'PULL_ARTIFACT',
  'DELETE_ARTIFACT',
  'QUOTA_EXCEED',
  'QUOTA_WARNING',
  'SCANNING_FAILED',
  'SCANNING_STOPPED',
  'SCANNING_COMPLETED',
  'REPLICATION',
  'TAG_RETENTION',
];
const SUPPORTED_NOTIFY_TYPES = ['http', 'slack'];

type PolicyAction = 'list' | 'read' | 'create' | 'update' | 'delete';

/** rbac_role.go: project admins may do everything with notification policies, maintainers only list them. */
function roleAllows(role: ProjectRole | undefined, action: PolicyAction): boolean {
  return role === 'projectAdmin' || (role === 'maintainer' && action === 'list');
}

export interface PolicyCall {
  req: IncomingMessage;
  res: ServerResponse;
  identity: Identity;
  rawPath: string;
  params: URLSearchParams;
  body?: Buffer;
}

/** The swagger `WebhookPolicy` as go-swagger writes it: empty strings and false targets fields left out. */
export function policyJson(p: WebhookPolicyRecord): object {
  return {
    creation_time: p.creationTime,
    creator: p.creator,
    ...(p.description ? { description: p.description } : {}),
    enabled: p.enabled,
    event_types: [...p.eventTypes],
    id: p.id,
    name: p.name,
    project_id: p.projectId,
    targets: p.targets.map((t) => ({
      address: t.address,
      ...(t.authHeader ? { auth_header: t.authHeader } : {}),
      ...(t.payloadFormat ? { payload_format: t.payloadFormat } : {}),
      ...(t.skipCertVerify ? { skip_cert_verify: true } : {}),
      type: t.type,
    })),
    update_time: p.updateTime,
  };
}

/** Harbor 2.3 and later (server/v2.0/handler/webhook.go); policy-dialects.ts has the older ones. */
export const MODERN_POLICY_API: PolicyDialect = {
  idsOnly: false,
  pushEventType: 'PUSH_ARTIFACT',
  paged: true,
  clashes: sameProjectName,
  sendClash: (res, name) => sendError(res, 409, 'CONFLICT', `notification policy named ${name} already exists`),
  sendError,
  json: policyJson,
};

/**
 * RequireProjectAccess: anonymous 401; the system admin may do anything in an existing project (404
 * for a missing one, as Harbor 2.9+ answers an admin); a member needs the role; anyone else 403.
 */
function access(
  c: PolicyCall,
  state: HarborState,
  projectRef: string,
  action: PolicyAction,
  dialect: PolicyDialect,
): Project | undefined {
  if (c.identity.kind === 'anonymous' || c.identity.kind === 'invalid') {
    dialect.sendError(c.res, 401, 'UNAUTHORIZED', 'unauthorized');
    return undefined;
  }
  const byName = !dialect.idsOnly && (c.req.headers['x-is-resource-name'] === 'true' || !/^\d+$/.test(projectRef));
  const project = state.project(byName ? projectRef : Number(projectRef));
  if (c.identity.kind === 'admin') {
    if (!project) dialect.sendError(c.res, 404, 'NOT_FOUND', `project ${projectRef} not found`);
    return project;
  }
  // A member's permission is looked up by project; a project that does not exist grants nothing.
  if (!project || !roleAllows(c.identity.roles[project.name], action)) {
    dialect.sendError(c.res, 403, 'FORBIDDEN', 'forbidden');
    return undefined;
  }
  return project;
}

/** utils.ParseEndpoint, then scheme://host+path (Harbor's SSRF guard drops user info, query and fragment). */
function parseEndpoint(raw: string): string | { error: string } {
  let endpoint = raw.trim().replace(/\/+$/, '');
  if (endpoint === '') return { error: 'empty URL' };
  const i = endpoint.indexOf('://');
  if (i >= 0) {
    const scheme = endpoint.slice(0, i);
    if (scheme !== 'http' && scheme !== 'https') return { error: `invalid scheme: ${scheme}` };
  } else {
    endpoint = `http://${endpoint}`;
  }
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return { error: `parse "${endpoint}": invalid URI for request` };
  }
  // Trailing slashes are gone, so WHATWG's "/" for an empty path is Go's "".
  return `${url.protocol}//${url.host}${url.pathname === '/' ? '' : url.pathname}`;
}

interface PolicyInput {
  name: string;
  description: string;
  enabled: boolean;
  eventTypes: string[];
  targets: WebhookTargetRecord[];
}

/** go-swagger's body binding, then JSONCopy into Harbor's model, then the handler's validateEventTypes and validateTargets. */
function readPolicy(c: PolicyCall, dialect: PolicyDialect): PolicyInput | undefined {
  const bad = (message: string) => {
    dialect.sendError(c.res, 400, 'BAD_REQUEST', message);
    return undefined;
  };
  let body: unknown;
  try {
    body = JSON.parse(c.body?.toString('utf8') ?? '');
  } catch (error) {
    return bad(`parsing policy body from "" failed, because ${(error as Error).message}`);
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    return bad(
      'parsing policy body from "" failed, because json: cannot unmarshal into Go value of type models.WebhookPolicy',
    );
  const b = body as Record<string, unknown>;
  const typeError = (field: string, want: string) =>
    bad(
      `parsing policy body from "" failed, because json: cannot unmarshal ${Array.isArray(b[field]) ? 'array' : typeof b[field]} into Go struct field WebhookPolicy.${field} of type ${want}`,
    );
  for (const field of ['name', 'description'] as const)
    if (b[field] !== undefined && typeof b[field] !== 'string') return typeError(field, 'string');
  if (b.enabled !== undefined && typeof b.enabled !== 'boolean') return typeError('enabled', 'bool');
  if (
    b.event_types !== undefined &&
    (!Array.isArray(b.event_types) || b.event_types.some((t) => typeof t !== 'string'))
  )
    return typeError('event_types', '[]string');
  if (
    b.targets !== undefined &&
    (!Array.isArray(b.targets) || b.targets.some((t) => t === null || typeof t !== 'object' || Array.isArray(t)))
  )
    return typeError('targets', '[]*models.WebhookTargetObject');
  const name = (b.name as string | undefined) ?? '';

  const eventTypes = (b.event_types as string[] | undefined) ?? [];
  if (eventTypes.length === 0) return bad('empty event type');
  for (const t of eventTypes)
    if (!(dialect.eventTypes ?? SUPPORTED_EVENT_TYPES).includes(t)) return bad(`unsupported event type ${t}`);

  const rawTargets = (b.targets as Array<Record<string, unknown>> | undefined) ?? [];
  if (rawTargets.length === 0) return bad(`empty notification target with policy ${name}`);
  const targets: WebhookTargetRecord[] = [];
  for (const t of rawTargets) {
    const address = parseEndpoint(typeof t.address === 'string' ? t.address : '');
    if (typeof address !== 'string') return bad(address.error);
    const type = typeof t.type === 'string' ? t.type : '';
    if (!SUPPORTED_NOTIFY_TYPES.includes(type)) return bad(`unsupported target type ${type} with policy ${name}`);
    // Before 2.8 payload_format is no field of the model: encoding/json drops it.
    const format = typeof t.payload_format === 'string' && dialect.paged ? t.payload_format : '';
    if (format !== '' && format !== 'Default' && format !== 'CloudEvents')
      return bad(`unsupported payload format ${format}`);
    targets.push({
      type,
      address,
      authHeader: typeof t.auth_header === 'string' ? t.auth_header : '',
      skipCertVerify: t.skip_cert_verify === true,
      payloadFormat: format || 'Default',
    });
  }
  // Go's zero values for what the body leaves out: an omitted "enabled" is a disabled policy.
  return {
    name,
    description: (b.description as string | undefined) ?? '',
    enabled: b.enabled ?? false,
    eventTypes,
    targets,
  };
}

/** Routes /projects/{p}/webhook/policies[/{id}]; false when the path is not one of these. */
export function handleWebhookPolicies(
  c: PolicyCall,
  state: HarborState,
  projectRef: string,
  idSegment: string | undefined,
  dialect: PolicyDialect = MODERN_POLICY_API,
): boolean {
  const method = c.req.method ?? 'GET';
  const now = () => new Date().toISOString();
  if (idSegment === undefined) {
    if (method === 'GET') {
      const project = access(c, state, projectRef, 'list', dialect);
      if (!project) return true;
      // The legacy List (1.x to 2.2) writes every policy of the project, in id order.
      if (!dialect.paged)
        return (
          sendJson(
            c.res,
            200,
            state.webhookPolicies.filter((p) => p.projectId === project.id).map((p) => dialect.json(p)),
          ),
          true
        );
      const page = parsePage(c.params);
      if ('error' in page) return (sendError(c.res, 422, 'UNPROCESSABLE_ENTITY', page.error), true);
      // Harbor sorts by creation_time, newest first (the model's `sort:"default:desc"`).
      const all = state.webhookPolicies
        .filter((p) => p.projectId === project.id)
        .sort((a, b) => b.creationTime.localeCompare(a.creationTime) || b.id - a.id);
      sendJson(c.res, 200, slicePage(all, page).map(policyJson), pagingHeaders(c.rawPath, c.params, all.length, page));
      return true;
    }
    if (method === 'POST') {
      const project = access(c, state, projectRef, 'create', dialect);
      if (!project) return true;
      const input = readPolicy(c, dialect);
      if (!input) return true;
      if (dialect.clashes(state.webhookPolicies, project.id, input.name))
        return (dialect.sendClash(c.res, input.name), true);
      const at = now();
      const record: WebhookPolicyRecord = {
        id: state.nextPolicyId(),
        projectId: project.id,
        ...input,
        creator: c.identity.kind === 'admin' || c.identity.kind === 'user' ? c.identity.username : '',
        creationTime: at,
        updateTime: at,
      };
      state.webhookPolicies.push(record);
      c.res.writeHead(201, { location: `${c.rawPath.replace(/\/+$/, '')}/${record.id}`, 'content-length': 0 }).end();
      return true;
    }
    sendError(c.res, 405, 'METHOD_NOT_ALLOWED', `method ${method} is not allowed`);
    return true;
  }

  if (!/^\d+$/.test(idSegment)) {
    sendError(c.res, 400, 'BAD_REQUEST', `webhook_policy_id in path must be of type int64: "${idSegment}"`);
    return true;
  }
  const id = Number(idSegment);
  const action: PolicyAction | undefined =
    method === 'GET' ? 'read' : method === 'PUT' ? 'update' : method === 'DELETE' ? 'delete' : undefined;
  if (!action) {
    sendError(c.res, 405, 'METHOD_NOT_ALLOWED', `method ${method} is not allowed`);
    return true;
  }
  const project = access(c, state, projectRef, action, dialect);
  if (!project) return true;
  // requirePolicyInProject: a policy of another project is as missing as one that does not exist.
  const index = state.webhookPolicies.findIndex((p) => p.id === id && p.projectId === project.id);
  if (index < 0) {
    const exists = state.webhookPolicies.some((p) => p.id === id);
    dialect.sendError(
      c.res,
      404,
      'NOT_FOUND',
      exists ? `project id:${project.id}, webhook policy id: ${id} not found` : `notificationPolicy ${id} not found`,
    );
    return true;
  }
  const existing = state.webhookPolicies[index];
  if (action === 'read') {
    sendJson(c.res, 200, dialect.json(existing));
  } else if (action === 'delete') {
    state.webhookPolicies.splice(index, 1);
    c.res.writeHead(200, { 'content-length': 0 }).end();
  } else {
    const input = readPolicy(c, dialect);
    if (!input) return true;
    if (dialect.clashes(state.webhookPolicies, project.id, input.name, id))
      return (dialect.sendClash(c.res, input.name), true);
    // PUT replaces the policy: what the body leaves out takes Go's zero value.
    state.webhookPolicies[index] = { ...existing, ...input, updateTime: now() };
    c.res.writeHead(200, { 'content-length': 0 }).end();
  }
  return true;
}

export interface WebhookDelivery {
  policyId: number;
  address: string;
  eventType: HarborEventType;
  repository: string;
  digest: string;
  tag?: string;
  /** The last attempt's HTTP status, 0 when no answer came. */
  status: number;
  attempts: number;
  error?: string;
  /** Every attempt's status (0 when no answer came) and error, in order. */
  history: Array<{ status: number; error?: string }>;
}

export type PayloadBuilder = (
  format: 'default' | 'cloudevents',
  event: PushEvent,
  policyId: number,
  eventType: HarborEventType,
) => { body: string; contentType: string };

/** Harbor's notification handler and jobservice webhook job, in one process. */
export class WebhookDeliverer {
  readonly deliveries: WebhookDelivery[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  private readonly agent = new Agent({ connections: 8 });
  private readonly insecureAgent = new Agent({ connections: 8, connect: { rejectUnauthorized: false } });

  constructor(
    private readonly state: HarborState,
    private readonly payload: PayloadBuilder,
    /** Harbor's JOBSERVICE_WEBHOOK_JOB_MAX_RETRY (3) and HTTP client timeout (3 s). */
    private readonly options: { attempts: number; timeoutMs: number; backoffMs: number } = {
      attempts: 3,
      timeoutMs: 3000,
      backoffMs: 200,
    },
    /** pushImage on 1.9/1.10, which also fires for tagged pushes only (core/service/notifications/registry). */
    private readonly pushEventType: 'PUSH_ARTIFACT' | 'pushImage' = 'PUSH_ARTIFACT',
  ) {}

  /** PUSH_ARTIFACT for one manifest PUT: one delivery per target of every enabled policy that has the event. */
  pushed(repo: string, digest: string, tag: string | undefined, operator: string): void {
    const slash = repo.indexOf('/');
    const project = this.state.project(repo.slice(0, slash));
    if (!project || slash < 0) return;
    const event: PushEvent = { project: project.name, repository: repo.slice(slash + 1), digest, tag, operator };
    if (this.pushEventType === 'pushImage' && !tag) return;
    this.fire(project.id, this.pushEventType, event);
  }

  /**
   * An artifact deleted through the API: DELETE_ARTIFACT naming its first tag (the digest when it had none), as
   * 2.x's artifact webhook handler builds it; on 1.x deleteImage naming the deleted tag.
   */
  deleted(repo: string, digest: string, tags: string[], operator: string): void {
    const slash = repo.indexOf('/');
    const project = this.state.project(repo.slice(0, slash));
    if (!project || slash < 0) return;
    const event: PushEvent = {
      project: project.name,
      repository: repo.slice(slash + 1),
      digest,
      tag: tags[0],
      operator,
    };
    this.fire(project.id, this.pushEventType === 'pushImage' ? 'deleteImage' : 'DELETE_ARTIFACT', event);
  }

  private fire(projectId: number, eventType: HarborEventType, event: PushEvent): void {
    const policies = this.state.webhookPolicies.filter(
      (p) => p.projectId === projectId && p.enabled && p.eventTypes.includes(eventType),
    );
    for (const policy of policies) {
      for (const target of policy.targets) {
        if (target.type !== 'http') continue;
        const job = this.deliver(policy, target, event, eventType).finally(() => this.inFlight.delete(job));
        this.inFlight.add(job);
      }
    }
  }

  private async deliver(
    policy: WebhookPolicyRecord,
    target: WebhookTargetRecord,
    event: PushEvent,
    eventType: HarborEventType,
  ): Promise<void> {
    const { body, contentType } = this.payload(
      target.payloadFormat === 'CloudEvents' ? 'cloudevents' : 'default',
      event,
      policy.id,
      eventType,
    );
    const record: WebhookDelivery = {
      policyId: policy.id,
      address: target.address,
      eventType,
      repository: `${event.project}/${event.repository}`,
      digest: event.digest,
      tag: event.tag,
      status: 0,
      attempts: 0,
      history: [],
    };
    this.deliveries.push(record);
    for (let attempt = 1; attempt <= this.options.attempts && !this.abort.signal.aborted; attempt++) {
      record.attempts = attempt;
      try {
        const res = await request(target.address, {
          method: 'POST',
          headers: { 'content-type': contentType, ...(target.authHeader ? { authorization: target.authHeader } : {}) },
          body,
          dispatcher: target.skipCertVerify ? this.insecureAgent : this.agent,
          signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.options.timeoutMs)]),
        });
        const text = await res.body.text();
        record.status = res.statusCode;
        delete record.error;
        record.history.push(
          res.statusCode < 300 ? { status: res.statusCode } : { status: res.statusCode, error: text.slice(0, 300) },
        );
        if (res.statusCode >= 200 && res.statusCode < 300) return;
      } catch (error) {
        record.status = 0;
        record.error = (error as Error).message;
        record.history.push({ status: 0, error: record.error });
      }
      if (attempt < this.options.attempts) await new Promise((r) => setTimeout(r, this.options.backoffMs * attempt));
    }
  }

  /** Waits for the deliveries under way (up to `ms`), then cuts the rest off. */
  async stop(ms = 1000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.inFlight]), new Promise((r) => (timer = setTimeout(r, ms)))]);
    clearTimeout(timer);
    this.abort.abort();
    await Promise.allSettled([...this.inFlight]);
    await Promise.all([this.agent.close(), this.insecureAgent.close()]);
  }
}
