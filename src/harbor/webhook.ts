// Reads what Harbor sends to /service/notifications (Harbor 2.x Default or CloudEvents webhooks, and the
// Distribution notification envelopes of Harbor 1.x) into push events; everything else is named and ignored.
import { isDigest, isManifestType, isValidRepository, isValidTag } from '../oci/index.js';
import { harborProjectProblem } from '../config/names.js';

export interface PushEvent {
  project: string;
  /** Repository name without the project. */
  repository: string;
  digest: string;
  /** The pushed tag; absent when Harbor only knew the digest (index children, push by digest). */
  tag?: string;
  format: 'default' | 'cloudevents' | 'distribution';
}

export interface ParsedNotification {
  pushes: PushEvent[];
  ignored: string[];
}

/** The body is not something Harbor or a registry sends: answered 400 with this message. */
export class NotificationError extends Error {}

interface HarborEventData {
  resources?: Array<{ digest?: unknown; tag?: unknown }>;
  repository?: { name?: unknown; namespace?: unknown; repo_full_name?: unknown };
}

export function parseNotification(body: unknown): ParsedNotification {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new NotificationError('expected a JSON object: a Harbor webhook (Default or CloudEvents) or a registry notification envelope');
  }
  const object = body as Record<string, unknown>;
  if (Array.isArray(object.events)) return fromEnvelope(object.events);
  if (typeof object.specversion === 'string') return fromCloudEvent(object);
  if (typeof object.type === 'string' && object.event_data && typeof object.event_data === 'object') return fromDefault(object);
  throw new NotificationError('unrecognised notification: expected Harbor\'s "type"/"event_data", a CloudEvent with "specversion", or a registry envelope with "events"');
}

function fromDefault(object: Record<string, unknown>): ParsedNotification {
  if (object.type !== 'PUSH_ARTIFACT') return { pushes: [], ignored: [`Harbor event ${named(object.type)} is not a push`] };
  return fromHarborData(object.event_data as HarborEventData, 'default');
}

function fromCloudEvent(object: Record<string, unknown>): ParsedNotification {
  if (object.type !== 'harbor.artifact.pushed') return { pushes: [], ignored: [`CloudEvent ${named(object.type)} is not harbor.artifact.pushed`] };
  if (!object.data || typeof object.data !== 'object') throw new NotificationError('CloudEvent harbor.artifact.pushed has no "data" object');
  return fromHarborData(object.data as HarborEventData, 'cloudevents');
}

function fromHarborData(data: HarborEventData, format: PushEvent['format']): ParsedNotification {
  const repo = data.repository;
  if (!repo || typeof repo.namespace !== 'string' || typeof repo.name !== 'string') {
    throw new NotificationError('event_data.repository must have string "namespace" (the project) and "name"');
  }
  if (!Array.isArray(data.resources) || data.resources.length === 0) throw new NotificationError('event_data.resources must list the pushed artifact');
  const pushes: PushEvent[] = [];
  for (const resource of data.resources) {
    if (!resource || typeof resource !== 'object' || Array.isArray(resource)) throw new NotificationError('every entry of event_data.resources must be an object with "digest" and "tag"');
    pushes.push(checked({ project: repo.namespace, repository: repo.name, digest: resource.digest, tag: resource.tag, format }));
  }
  return { pushes, ignored: [] };
}

interface EnvelopeEvent {
  action?: unknown;
  target?: { mediaType?: unknown; digest?: unknown; repository?: unknown; tag?: unknown; url?: unknown };
}

function fromEnvelope(events: unknown[]): ParsedNotification {
  const pushes: PushEvent[] = [];
  const ignored: string[] = [];
  for (const raw of events) {
    const event = raw as EnvelopeEvent;
    if (!event || typeof event !== 'object' || !event.target || typeof event.target !== 'object') throw new NotificationError('every entry of "events" needs a "target" object');
    const { target } = event;
    if (event.action !== 'push') {
      ignored.push(`registry ${named(event.action)} event`);
      continue;
    }
    if (!isManifestType(typeof target.mediaType === 'string' ? target.mediaType : undefined)) {
      ignored.push(`push of ${named(target.mediaType)} (not a manifest)`);
      continue;
    }
    if (typeof target.repository !== 'string' || !target.repository.includes('/')) {
      ignored.push(`repository ${named(target.repository)} is not inside a Harbor project`);
      continue;
    }
    const slash = target.repository.indexOf('/');
    pushes.push(checked({ project: target.repository.slice(0, slash), repository: target.repository.slice(slash + 1), digest: target.digest, tag: target.tag, format: 'distribution' }));
  }
  return { pushes, ignored };
}

/** A value for an error message: quoted, cut short, and never walked (a deeply nested value must not recurse). */
function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 100 ? `${value.slice(0, 100)}…` : value);
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : 'an object';
}

/** As shown(), but a string unquoted: for the names in `ignored`. */
function named(value: unknown): string {
  return typeof value === 'string' ? (value.length > 100 ? `${value.slice(0, 100)}…` : value) : shown(value);
}

function checked(raw: { project: string; repository: string; digest: unknown; tag: unknown; format: PushEvent['format'] }): PushEvent {
  const problem = harborProjectProblem(raw.project);
  if (problem) throw new NotificationError(`project ${shown(raw.project)} ${problem}`);
  if (!isValidRepository(raw.repository)) throw new NotificationError(`repository ${shown(raw.repository)} is not a valid repository name`);
  if (typeof raw.digest !== 'string' || !isDigest(raw.digest)) throw new NotificationError(`digest ${shown(raw.digest)} is not a sha256 digest`);
  let tag: string | undefined;
  if (raw.tag !== undefined && raw.tag !== null && raw.tag !== '') {
    if (typeof raw.tag !== 'string') throw new NotificationError('tag must be a string');
    // Harbor puts the digest in `tag` when it knows no tag.
    if (!isDigest(raw.tag)) {
      if (!isValidTag(raw.tag)) throw new NotificationError(`tag ${shown(raw.tag)} is not a valid tag`);
      tag = raw.tag;
    }
  }
  return { project: raw.project, repository: raw.repository, digest: raw.digest, tag, format: raw.format };
}
