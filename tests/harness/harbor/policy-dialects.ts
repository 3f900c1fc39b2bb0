// Owns how each Harbor version's webhook-policy API differs (checked against goharbor/harbor at each tag):
// which routes take names, the event type of a push, which names must be unique and how a clash is answered,
// paging, the policy JSON and the error body. 1.9/1.10: core/api/notification_policy.go under /api/projects/:pid
// with one policy per project (migration 0010's UNIQUE(project_id)); 2.0: the same legacy API under /api/v2.0
// with names unique across the instance (0030 `ADD UNIQUE (name)`); 2.1/2.2: names unique per project (0040);
// 2.3+: the go-swagger handler (server/v2.0/handler/webhook.go) with paging and 409. Before 1.9 there is none.
import type { ServerResponse } from 'node:http';
import { sendError as sendV2Error } from './http.js';
import type { WebhookPolicyRecord } from './state.js';

export type StandInVersion = '1.8' | '1.10' | '2.0' | '2.1' | '2.2' | '2.3';

/** 1.10's src/pkg/notification/model/const.go, as initSupportedEventType registers them. */
const V1_EVENT_TYPES = [
  'pushImage',
  'pullImage',
  'deleteImage',
  'uploadChart',
  'deleteChart',
  'downloadChart',
  'scanningCompleted',
  'scanningFailed',
  'projectQuota',
];

export interface PolicyDialect {
  /** Beego's `:pid([0-9]+)` routes (1.x, 2.0 to 2.2): a project name in the path matches no route. */
  idsOnly: boolean;
  pushEventType: 'pushImage' | 'PUSH_ARTIFACT';
  /** undefined: the newest list (SUPPORTED_EVENT_TYPES of webhook-policies.ts). */
  eventTypes?: string[];
  /** Only 2.3's handler pages; the legacy List writes every policy of the project. */
  paged: boolean;
  /** Another policy the database's unique constraint of that version refuses this one for. */
  clashes(all: WebhookPolicyRecord[], projectId: number, name: string, except?: number): boolean;
  /** 2.3's handler checks first and answers 409; before, the INSERT fails and the legacy API answers 500. */
  sendClash(res: ServerResponse, name: string): void;
  sendError(res: ServerResponse, status: number, code: string, message: string): void;
  json(policy: WebhookPolicyRecord): object;
}

/** 1.x's BaseAPI.RenderFormattedError: http.Error (text/plain) with `{"code":N,"message":"..."}`. */
function sendV1Error(res: ServerResponse, status: number, _code: string, message: string): void {
  const text = `${JSON.stringify({ code: status, message })}\n`;
  res
    .writeHead(status, {
      'content-type': 'text/plain; charset=utf-8',
      'x-content-type-options': 'nosniff',
      'content-length': Buffer.byteLength(text),
    })
    .end(text);
}

/** models.NotificationPolicy as encoding/json writes it: every field, auth_header omitempty, no payload_format. */
function legacyJson(p: WebhookPolicyRecord): object {
  return {
    id: p.id,
    name: p.name,
    description: p.description,
    project_id: p.projectId,
    targets: p.targets.map((t) => ({
      type: t.type,
      address: t.address,
      ...(t.authHeader ? { auth_header: t.authHeader } : {}),
      skip_cert_verify: t.skipCertVerify,
    })),
    event_types: [...p.eventTypes],
    creator: p.creator,
    creation_time: p.creationTime,
    update_time: p.updateTime,
    enabled: p.enabled,
  };
}

export const sameProjectName = (all: WebhookPolicyRecord[], projectId: number, name: string, except?: number) =>
  all.some((p) => p.projectId === projectId && p.name === name && p.id !== except);

function legacy(overrides: Pick<PolicyDialect, 'clashes'> & Partial<PolicyDialect>): PolicyDialect {
  return {
    idsOnly: true,
    pushEventType: 'PUSH_ARTIFACT',
    paged: false,
    sendClash: (res) => sendV2Error(res, 500, 'UNKNOWN', 'internal server error'),
    sendError: sendV2Error,
    json: legacyJson,
    ...overrides,
  };
}

/** The dialect of a version; undefined for 1.8, which has no webhook policies. `modern` is 2.3's. */
export function policyDialect(version: StandInVersion, modern: PolicyDialect): PolicyDialect | undefined {
  switch (version) {
    case '1.8':
      return undefined;
    case '1.10':
      return legacy({
        pushEventType: 'pushImage',
        eventTypes: V1_EVENT_TYPES,
        clashes: (all, projectId, _name, except) => all.some((p) => p.projectId === projectId && p.id !== except),
        sendClash: (res) => sendV1Error(res, 500, 'UNKNOWN', 'Internal Server Error'),
        sendError: sendV1Error,
      });
    case '2.0':
      return legacy({
        clashes: (all, _projectId, name, except) => all.some((p) => p.name === name && p.id !== except),
      });
    case '2.1':
    case '2.2':
      return legacy({ clashes: sameProjectName });
    case '2.3':
      return modern;
  }
}
