// Harbor's project webhook policies (1.10's `NotificationPolicy`, 2.x swagger `WebhookPolicy`) and the plan that
// makes a project's policy deliver pushes to this service without ever adding a second one. The calls are in
// webhook-policy-api.ts.

/**
 * Our policy's name: one scheme on every Harbor version. Harbor 2.0 keeps policy names unique across the
 * whole instance (migration 0030), so one name in every project would fail on the second project.
 */
export function policyName(project: string): string {
  return `swr-harbor-sync-${project}`;
}

/** The name every project's policy had before: recognised, and renamed to policyName(). */
export const LEGACY_POLICY_NAME = 'swr-harbor-sync';
export const PUSH_ARTIFACT = 'PUSH_ARTIFACT';
/** Harbor 1.9/1.10's name for a push. */
export const PUSH_IMAGE = 'pushImage';
/** The deletion events, asked for with SyncDeletes=true (1.9/1.10: deleteImage). */
export const DELETE_ARTIFACT = 'DELETE_ARTIFACT';
export const DELETE_IMAGE = 'deleteImage';
const DESCRIPTION =
  'Pushes to swr-harbor-sync, which copies them to Huawei Cloud SWR. Managed by `swr-harbor-sync register-webhook`.';
/** Payload formats the service reads (Harbor 2.8+ has both; older Harbor sends Default and ignores the field). */
const READABLE_FORMATS = ['Default', 'CloudEvents'];

/** What differs between Harbor versions in a policy's content. */
export interface PolicyFlavour {
  pushEventType: typeof PUSH_ARTIFACT | typeof PUSH_IMAGE;
  /** 2.x targets carry payload_format (read from 2.8, ignored before); 1.x's model has no such field. */
  payloadFormat: boolean;
  /** 1.9/1.10 allow one policy per project (UNIQUE(project_id)): an existing one is joined, never a second made. */
  onePerProject: boolean;
}

export const CURRENT_FLAVOUR: PolicyFlavour = {
  pushEventType: PUSH_ARTIFACT,
  payloadFormat: true,
  onePerProject: false,
};

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
  /** SyncDeletes=true: the policy also delivers Harbor's delete event. */
  deletes?: boolean;
}

/** The event types the service asks for: the push, and with SyncDeletes the deletion. */
export function wantedEventTypes(flavour: PolicyFlavour, deletes = false): string[] {
  const deletion = flavour.pushEventType === PUSH_IMAGE ? DELETE_IMAGE : DELETE_ARTIFACT;
  return deletes ? [flavour.pushEventType, deletion] : [flavour.pushEventType];
}

export type PolicyPlan =
  | { action: 'create'; body: WebhookPolicyBody; alsoDelivering: WebhookPolicy[] }
  | {
      action: 'update';
      id: number;
      name: string;
      body: WebhookPolicyBody;
      changes: string[];
      alsoDelivering: WebhookPolicy[];
    }
  | { action: 'unchanged'; id: number; name: string; alsoDelivering: WebhookPolicy[] };

/** Harbor's own normalisation of a target address (utils.ParseEndpoint, then scheme://host+path). */
export function normalizeAddress(address: string): string {
  return address.trim().replace(/\/+$/, '');
}

function sameAddress(a: string, b: string): boolean {
  return normalizeAddress(a).toLowerCase() === normalizeAddress(b).toLowerCase();
}

/**
 * Ours is the policy named policyName(project), else one named `swr-harbor-sync` (made by an older version of
 * this service), else one with a target at our address (set up by hand), else on 1.x the project's only
 * policy. Everything else in the project is left alone.
 *
 * On update only what makes delivery work changes: the policy is enabled, the push event type (and with
 * SyncDeletes the delete event type) is added to its event types (others stay: someone chose them, and the service answers them 200 "ignored"), our target (the
 * one at our address, else in a policy named by us its first http target) gets our address, auth header and
 * TLS setting, and the policy takes policyName(project), so that the next run finds it by name even at a new
 * address. Other targets stay; so does the name of a 1.x policy that also serves other targets.
 */
export function planPolicy(
  existing: WebhookPolicy[],
  desired: DesiredWebhook,
  project: string,
  flavour: PolicyFlavour = CURRENT_FLAVOUR,
): PolicyPlan {
  const name = policyName(project);
  const atOurAddress = (p: WebhookPolicy) => (p.targets ?? []).some((t) => sameAddress(t.address, desired.address));
  const ours =
    existing.find((p) => p.name === name) ??
    existing.find((p) => p.name === LEGACY_POLICY_NAME) ??
    existing.find(atOurAddress) ??
    (flavour.onePerProject ? existing[0] : undefined);
  const alsoDelivering = existing.filter(
    (p) => p !== ours && p.enabled && (p.event_types ?? []).includes(flavour.pushEventType) && atOurAddress(p),
  );
  const target = (format?: string): WebhookTarget => ({
    type: 'http',
    address: desired.address,
    auth_header: desired.authHeader ?? '',
    skip_cert_verify: desired.skipCertVerify,
    ...(flavour.payloadFormat
      ? { payload_format: format && READABLE_FORMATS.includes(format) ? format : 'Default' }
      : {}),
  });
  if (!ours) {
    return {
      action: 'create',
      body: {
        name,
        description: DESCRIPTION,
        enabled: true,
        event_types: wantedEventTypes(flavour, desired.deletes),
        targets: [target()],
      },
      alsoDelivering,
    };
  }

  const namedByUs = ours.name === name || ours.name === LEGACY_POLICY_NAME;
  const targets = [...(ours.targets ?? [])];
  let at = targets.findIndex((t) => sameAddress(t.address, desired.address));
  if (at < 0 && namedByUs) at = targets.findIndex((t) => t.type === 'http');
  const before = at >= 0 ? targets[at] : undefined;
  const wanted = target(before?.payload_format);
  if (at >= 0) targets[at] = wanted;
  else targets.push(wanted);

  const changes: string[] = [];
  const sharedOnePerProject =
    flavour.onePerProject && targets.some((t, i) => i !== at && !sameAddress(t.address, desired.address));
  const newName = ours.name === name || sharedOnePerProject ? ours.name : name;
  if (newName !== ours.name) changes.push(`name (was "${ours.name}")`);
  if (!ours.enabled) changes.push('enabled');
  const eventTypes = [...(ours.event_types ?? [])];
  const missing = wantedEventTypes(flavour, desired.deletes).filter((t) => !eventTypes.includes(t));
  if (missing.length > 0) {
    eventTypes.push(...missing);
    changes.push('event types');
  }
  if (!before) changes.push('target added');
  else {
    if (before.type !== 'http') changes.push('target type');
    if (normalizeAddress(before.address) !== wanted.address) changes.push('address');
    if ((before.auth_header ?? '') !== wanted.auth_header) changes.push('auth header');
    if ((before.skip_cert_verify ?? false) !== wanted.skip_cert_verify) changes.push('skip_cert_verify');
    // Harbor before 2.8 has no payload_format and leaves it out: that is the Default format.
    if (flavour.payloadFormat && (before.payload_format || 'Default') !== wanted.payload_format)
      changes.push('payload format');
  }
  if (changes.length === 0) return { action: 'unchanged', id: ours.id, name: ours.name, alsoDelivering };
  const description = newName === name ? DESCRIPTION : (ours.description ?? '');
  return {
    action: 'update',
    id: ours.id,
    name: newName,
    body: { name: newName, description, enabled: true, event_types: eventTypes, targets },
    changes,
    alsoDelivering,
  };
}
