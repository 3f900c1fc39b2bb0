// Harbor's project webhook policies (REST API v2.0, swagger `WebhookPolicy`): list, create and update, and the
// plan that makes a project's policy deliver PUSH_ARTIFACT to this service without ever adding a second one.
import { nextLink } from '../oci/link.js';
import { HarborError, type HarborClient, type HarborResponse } from './client.js';

/** The name our policy carries in every project; Harbor keeps names unique per project. */
export const POLICY_NAME = 'swr-harbor-sync';
export const PUSH_ARTIFACT = 'PUSH_ARTIFACT';
const DESCRIPTION = 'Pushes to swr-harbor-sync, which copies them to Huawei Cloud SWR. Managed by `swr-harbor-sync register-webhook`.';
/** Payload formats the service reads (Harbor 2.8+ has both; older Harbor sends Default and ignores the field). */
const READABLE_FORMATS = ['Default', 'CloudEvents'];
const PAGE_SIZE = 100;

export interface WebhookTarget {
  type: string;
  address: string;
  /** Harbor leaves empty strings and false out of its answers. */
  auth_header?: string;
  skip_cert_verify?: boolean;
  payload_format?: string;
}

export interface WebhookPolicy {
  id: number;
  name: string;
  description?: string;
  project_id?: number;
  enabled: boolean;
  event_types: string[];
  targets: WebhookTarget[];
  creator?: string;
  creation_time?: string;
  update_time?: string;
}

/** What PUT and POST take: every property but id, project_id, creator and the times. */
export type WebhookPolicyBody = Pick<WebhookPolicy, 'name' | 'description' | 'enabled' | 'event_types' | 'targets'>;

export interface DesiredWebhook {
  /** Normalised as Harbor stores it: scheme://host[:port]/path, no trailing slash. */
  address: string;
  authHeader?: string;
  skipCertVerify: boolean;
}

export type PolicyPlan =
  | { action: 'create'; body: WebhookPolicyBody; alsoDelivering: WebhookPolicy[] }
  | { action: 'update'; id: number; name: string; body: WebhookPolicyBody; changes: string[]; alsoDelivering: WebhookPolicy[] }
  | { action: 'unchanged'; id: number; name: string; alsoDelivering: WebhookPolicy[] };

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

/** Harbor's own normalisation of a target address (utils.ParseEndpoint, then scheme://host+path). */
export function normalizeAddress(address: string): string {
  return address.trim().replace(/\/+$/, '');
}

function sameAddress(a: string, b: string): boolean {
  return normalizeAddress(a).toLowerCase() === normalizeAddress(b).toLowerCase();
}

/**
 * Ours is the policy named `swr-harbor-sync`, else one with a target at our address (set up by hand
 * before). Everything else in the project is left alone.
 *
 * On update only what makes delivery work changes: the policy is enabled, PUSH_ARTIFACT is added to its
 * event types (others stay: someone chose them, and the service answers them 200 "ignored"), and our
 * target (the one at our address, else in our own policy its first http target) gets our address, auth
 * header and TLS setting. Other targets, and the name and description of a policy set up by hand, stay.
 */
export function planPolicy(existing: WebhookPolicy[], desired: DesiredWebhook): PolicyPlan {
  const ours = existing.find((p) => p.name === POLICY_NAME) ?? existing.find((p) => (p.targets ?? []).some((t) => sameAddress(t.address, desired.address)));
  const alsoDelivering = existing.filter((p) => p !== ours && p.enabled && (p.event_types ?? []).includes(PUSH_ARTIFACT) && (p.targets ?? []).some((t) => sameAddress(t.address, desired.address)));
  const target = (format?: string): WebhookTarget => ({
    type: 'http',
    address: desired.address,
    auth_header: desired.authHeader ?? '',
    skip_cert_verify: desired.skipCertVerify,
    payload_format: format && READABLE_FORMATS.includes(format) ? format : 'Default',
  });
  if (!ours) {
    return { action: 'create', body: { name: POLICY_NAME, description: DESCRIPTION, enabled: true, event_types: [PUSH_ARTIFACT], targets: [target()] }, alsoDelivering };
  }

  const targets = [...(ours.targets ?? [])];
  let at = targets.findIndex((t) => sameAddress(t.address, desired.address));
  if (at < 0 && ours.name === POLICY_NAME) at = targets.findIndex((t) => t.type === 'http');
  const before = at >= 0 ? targets[at] : undefined;
  const wanted = target(before?.payload_format);
  if (at >= 0) targets[at] = wanted;
  else targets.push(wanted);

  const changes: string[] = [];
  if (!ours.enabled) changes.push('enabled');
  const eventTypes = [...(ours.event_types ?? [])];
  if (!eventTypes.includes(PUSH_ARTIFACT)) {
    eventTypes.push(PUSH_ARTIFACT);
    changes.push('event types');
  }
  if (!before) changes.push('target added');
  else {
    if (before.type !== 'http') changes.push('target type');
    if (normalizeAddress(before.address) !== wanted.address) changes.push('address');
    if ((before.auth_header ?? '') !== wanted.auth_header) changes.push('auth header');
    if ((before.skip_cert_verify ?? false) !== wanted.skip_cert_verify) changes.push('skip_cert_verify');
    // Harbor before 2.8 has no payload_format and leaves it out: that is the Default format.
    if ((before.payload_format || 'Default') !== wanted.payload_format) changes.push('payload format');
  }
  if (changes.length === 0) return { action: 'unchanged', id: ours.id, name: ours.name, alsoDelivering };
  const description = ours.name === POLICY_NAME ? DESCRIPTION : (ours.description ?? '');
  return { action: 'update', id: ours.id, name: ours.name, body: { name: ours.name, description, enabled: true, event_types: eventTypes, targets }, changes, alsoDelivering };
}

/** The policy calls for one Harbor, with errors that name the project and say what to fix. */
export class WebhookPolicies {
  constructor(private readonly harbor: HarborClient) {}

  private path(project: string, id?: number): string {
    return `/api/v2.0/projects/${encodeURIComponent(project)}/webhook/policies${id === undefined ? '' : `/${id}`}`;
  }

  /** Every policy of the project, following Harbor's paging. */
  async list(project: string): Promise<WebhookPolicy[]> {
    const policies: WebhookPolicy[] = [];
    let url: string | undefined = `${this.path(project)}?page=1&page_size=${PAGE_SIZE}`;
    for (let page = 0; url && page < 1000; page++) {
      const res = await this.send(project, 'list the webhook policies of', 'GET', url);
      if (!Array.isArray(res.json) && res.json !== null) throw new WebhookPolicyError(`project "${project}": Harbor's list of webhook policies is not a JSON array`, res.status);
      policies.push(...((res.json as WebhookPolicy[] | null) ?? []));
      url = nextLink(res.headers.link, new URL(url, this.harbor.baseUrl))?.toString();
    }
    return policies;
  }

  /** The new policy's id, from the Location header (undefined if Harbor sent none). */
  async create(project: string, body: WebhookPolicyBody): Promise<number | undefined> {
    const res = await this.send(project, 'create a webhook policy in', 'POST', this.path(project), body);
    const location = res.headers.location;
    const id = /\/(\d+)\/?$/.exec(Array.isArray(location) ? (location[0] ?? '') : (location ?? ''))?.[1];
    return id === undefined ? undefined : Number(id);
  }

  async update(project: string, id: number, body: WebhookPolicyBody): Promise<void> {
    await this.send(project, `update webhook policy ${id} of`, 'PUT', this.path(project, id), body, id);
  }

  private async send(project: string, doing: string, method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown, policyId?: number): Promise<HarborResponse> {
    let res: HarborResponse;
    try {
      // Harbor reads an all-digit project as an id unless told it is a name.
      res = await this.harbor.call(method, path, { headers: { 'x-is-resource-name': 'true' }, body, ok: [200, 201, 400, 401, 403, 404, 409, 422] });
    } catch (error) {
      if (error instanceof HarborError) throw new WebhookPolicyError(`project "${project}": could not ${doing} it: ${error.message}`, error.status);
      throw error;
    }
    if (res.status < 300) return res;
    const detail = harborMessage(res.text);
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
        throw fail(policyId === undefined ? `Harbor has no project "${project}" (404): check the project name${detail ? ` (${detail})` : ''}` : `webhook policy ${policyId} disappeared while it was being updated (404); run the command again`);
      case 409:
        throw fail(`Harbor already has a webhook policy of that name (409${detail ? `: ${detail}` : ''}); another change raced this one, run the command again`);
      default:
        throw fail(`Harbor refused to ${doing} it (${res.status}${detail ? `: ${detail}` : ''})`);
    }
  }
}

function harborMessage(text: string): string {
  try {
    const errors = (JSON.parse(text) as { errors?: Array<{ code?: string; message?: string }> }).errors;
    return errors?.map((e) => e.message ?? e.code ?? '').filter(Boolean).join('; ') ?? '';
  } catch {
    return text.slice(0, 200);
  }
}
