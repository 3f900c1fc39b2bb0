// The webhook-policy calls of each Harbor version, with errors that name the project and say what to fix:
// 2.3+ `/api/v2.0/projects/{name}/webhook/policies` (paged); 2.0-2.2 the same path with the project's id only
// (their routes are `:pid([0-9]+)`), unpaged; 1.9/1.10 `/api/projects/{id}/webhook/policies`, unpaged, one policy
// per project. Before 1.9 there are none: NoPolicyApiError says so.
import { HarborError, type HarborClient, type HarborResponse } from './client.js';
import { harborErrorDetail } from './errors.js';
import type { HarborInfo } from './detect.js';
import { harborPages } from './paging.js';
import {
  CURRENT_FLAVOUR,
  PUSH_IMAGE,
  type PolicyFlavour,
  type WebhookPolicy,
  type WebhookPolicyBody,
} from './webhook-policies.js';

export type PolicyDialect = 'v1' | 'v2-by-id' | 'v2';

const PAGE_SIZE = 100;

/** The dialect of a detected Harbor, or undefined when it has no webhook policies (1.x before 1.9). */
export function policyDialectOf(info: HarborInfo): PolicyDialect | undefined {
  const [major, minor] =
    /^v?(\d+)\.(\d+)/
      .exec(info.version ?? '')
      ?.slice(1)
      .map(Number) ?? [];
  if (info.api === 'v1') return major === 1 && minor < 9 ? undefined : 'v1';
  if (info.api === 'v2') return major === 2 && minor < 3 ? 'v2-by-id' : 'v2';
  return undefined;
}

export function flavourOf(dialect: PolicyDialect): PolicyFlavour {
  return dialect === 'v1' ? { pushEventType: PUSH_IMAGE, payloadFormat: false, onePerProject: true } : CURRENT_FLAVOUR;
}

/** A failed Harbor call for one project, worded for the operator. */
export class WebhookPolicyError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = 'WebhookPolicyError';
  }
}

/** The policy route answered 404 for a project that exists: a Harbor 1.x before 1.9 (or a proxy hiding the route). */
export class NoPolicyApiError extends Error {}

/** The policy calls for one Harbor in one dialect. */
export class WebhookPolicyApi {
  private readonly ids = new Map<string, number>();

  constructor(
    private readonly harbor: HarborClient,
    readonly dialect: PolicyDialect,
  ) {}

  /** Every policy of the project. */
  async list(project: string): Promise<WebhookPolicy[]> {
    const path = await this.path(project);
    const first = this.dialect === 'v2' ? `${path}?page=1&page_size=${PAGE_SIZE}` : path;
    try {
      return await harborPages<WebhookPolicy>(this.harbor, first, (url) =>
        this.send(project, 'list the webhook policies of', 'GET', url),
      );
    } catch (error) {
      if (error instanceof HarborError)
        throw new WebhookPolicyError(
          `project "${project}": could not list its webhook policies: ${error.message}`,
          error.status,
        );
      throw error;
    }
  }

  /** The new policy's id, from the Location header (undefined if Harbor sent none). */
  async create(project: string, body: WebhookPolicyBody): Promise<number | undefined> {
    const res = await this.send(project, 'create a webhook policy in', 'POST', await this.path(project), body);
    const location = res.headers.location;
    const id = /\/(\d+)\/?$/.exec(Array.isArray(location) ? (location[0] ?? '') : (location ?? ''))?.[1];
    return id === undefined ? undefined : Number(id);
  }

  async update(project: string, id: number, body: WebhookPolicyBody): Promise<void> {
    await this.send(project, `update webhook policy ${id} of`, 'PUT', `${await this.path(project)}/${id}`, body, id);
  }

  private async path(project: string): Promise<string> {
    if (this.dialect === 'v2') return `/api/v2.0/projects/${encodeURIComponent(project)}/webhook/policies`;
    return `${this.dialect === 'v1' ? '/api' : '/api/v2.0'}/projects/${await this.projectId(project)}/webhook/policies`;
  }

  /** The id of the project named exactly so: `?name=` is a substring search on every version, so filter. */
  private async projectId(project: string): Promise<number> {
    const known = this.ids.get(project);
    if (known !== undefined) return known;
    const search = `${this.dialect === 'v1' ? '/api' : '/api/v2.0'}/projects?name=${encodeURIComponent(project)}&page=1&page_size=${PAGE_SIZE}`;
    let found: Array<{ project_id?: unknown; name?: unknown }>;
    try {
      found = await harborPages(this.harbor, search, (url) => this.send(project, 'look up', 'GET', url));
    } catch (error) {
      if (error instanceof HarborError)
        throw new WebhookPolicyError(`project "${project}": could not look it up: ${error.message}`, error.status);
      throw error;
    }
    const id = found.find((p) => p.name === project)?.project_id;
    if (typeof id !== 'number')
      throw new WebhookPolicyError(
        `Harbor has no project "${project}" that user "${this.harbor.username ?? 'anonymous'}" can see: check the project name, and that the user is a member`,
        404,
      );
    this.ids.set(project, id);
    return id;
  }

  private async send(
    project: string,
    doing: string,
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    body?: unknown,
    policyId?: number,
  ): Promise<HarborResponse> {
    let res: HarborResponse;
    try {
      // Harbor reads an all-digit project as an id unless told it is a name (2.2+; older Harbor ignores it).
      res = await this.harbor.call(method, path, {
        headers: { 'x-is-resource-name': 'true' },
        body,
        ok: [200, 201, 400, 401, 403, 404, 409, 422, 500],
      });
    } catch (error) {
      if (error instanceof HarborError)
        throw new WebhookPolicyError(`project "${project}": could not ${doing} it: ${error.message}`, error.status);
      throw error;
    }
    if (res.status < 300) return res;
    const detail = harborErrorDetail(res.text);
    const user = this.harbor.username;
    const fail = (why: string) => new WebhookPolicyError(`project "${project}": ${why}`, res.status);
    switch (res.status) {
      case 401:
        throw fail(
          this.harbor.hasCredentials
            ? `Harbor refused the credentials of user "${user}" (401): check HarborUser and HarborPassword`
            : 'Harbor needs credentials to manage webhooks (401): set HarborUser and HarborPassword',
        );
      case 403:
        throw fail(
          `Harbor user "${user ?? 'anonymous'}" may not ${doing} the project (403): webhooks need the Project Admin role in the project, or a system administrator` +
            ' (Harbor versions before 2.9 also answer 403 for a project that does not exist)',
        );
      case 404:
        // The project was found by id just before: only a Harbor without the policy API answers 404 here.
        if (this.dialect === 'v1' && policyId === undefined && method === 'GET')
          throw new NoPolicyApiError(`Harbor answered 404 to ${path}: it has no webhook policies`);
        throw fail(
          policyId === undefined
            ? `Harbor has no project "${project}" (404): check the project name${detail ? ` (${detail})` : ''}`
            : `webhook policy ${policyId} disappeared while it was being updated (404); run the command again`,
        );
      case 409:
        throw fail(
          `Harbor already has a webhook policy of that name (409${detail ? `: ${detail}` : ''}); another change raced this one, run the command again`,
        );
      case 500:
        if (method === 'GET')
          throw fail(`Harbor failed to ${doing} it (500${detail ? `: ${detail}` : ''}); see Harbor's core log`);
        // Before 2.3 the database's unique constraint answers for the API: a name taken (2.0: anywhere in the
        // instance, 2.1/2.2: in the project) or, on 1.9/1.10, a second policy in the project.
        throw fail(
          `Harbor failed to ${doing} it (500${detail ? `: ${detail}` : ''}); Harbor before 2.3 answers so when the policy name is taken` +
            " (on 2.0 in any project) or, on 1.9/1.10, when the project already has a policy: see Harbor's core log, then run the command again",
        );
      default:
        throw fail(`Harbor refused to ${doing} it (${res.status}${detail ? `: ${detail}` : ''})`);
    }
  }
}
