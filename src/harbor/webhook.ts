// Reads what Harbor sends to /service/notifications (Harbor 2.x Default or CloudEvents webhooks, Harbor
// 1.9/1.10 `pushImage` webhooks, and the Distribution notification envelopes of older Harbor 1.x) into push
// events, and their deletions (DELETE_ARTIFACT, harbor.artifact.deleted, 1.x deleteImage, an envelope's
// `delete`) into delete events of the same shape; everything else is named and ignored.
import { isDigest, isManifestType, isValidRepository, isValidTag } from '../oci/index.js';
import { harborProjectProblem } from './names.js';

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
  /** Artifacts deleted in Harbor (`digest` the deleted one, `tag` the one the event named, if any). */
  deletes: PushEvent[];
  ignored: string[];
}

/**
 * At most this many resources of one Harbor event, and events of one envelope, become pushes. Harbor puts
 * exactly one resource in an event (1.9 to today) and Distribution writes one event per envelope, batching
 * a handful at most after a retry; 100 leaves ample room for both, while a crafted 8,000-resource body
 * cannot make 8,000 jobs. The rest is answered 200 and counted under `ignored`: a 4xx would make a
 * registry resend the same batch forever.
 */
export const MAX_PUSHES_PER_NOTIFICATION = 100;

/** Harbor 2.x names a push PUSH_ARTIFACT; Harbor 1.9 and 1.10 name it pushImage, with the same event_data. */
const HARBOR_PUSH_TYPES = ['PUSH_ARTIFACT', 'pushImage'];
/** DELETE_ARTIFACT (2.x) names the artifact's first tag; 1.9/1.10's deleteImage lists each deleted tag. */
const HARBOR_DELETE_TYPES = ['DELETE_ARTIFACT', 'deleteImage'];

/** The body is not something Harbor or a registry sends: answered 400 with this message. */
export class NotificationError extends Error {}

interface HarborEventData {
  resources?: Array<{ digest?: unknown; tag?: unknown }>;
  repository?: { name?: unknown; namespace?: unknown; repo_full_name?: unknown };
}

export function parseNotification(body: unknown): ParsedNotification {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new NotificationError(
      'expected a JSON object: a Harbor webhook (Default or CloudEvents) or a registry notification envelope',
    );
  }
  const object = body as Record<string, unknown>;
  if (Array.isArray(object.events)) return fromEnvelope(object.events);
  if (typeof object.specversion === 'string') return fromCloudEvent(object);
  if (typeof object.type === 'string' && object.event_data && typeof object.event_data === 'object')
    return fromDefault(object);
  throw new NotificationError(
    'unrecognised notification: expected Harbor\'s "type"/"event_data", a CloudEvent with "specversion", or a registry envelope with "events"',
  );
}

function fromDefault(object: Record<string, unknown>): ParsedNotification {
  const deleted = HARBOR_DELETE_TYPES.includes(object.type as string);
  if (!HARBOR_PUSH_TYPES.includes(object.type as string) && !deleted)
    return { pushes: [], deletes: [], ignored: [`Harbor event ${named(object.type)} is not a push`] };
  return asDeletes(fromHarborData(object.event_data as HarborEventData, 'default', deleted), deleted);
}

function fromCloudEvent(object: Record<string, unknown>): ParsedNotification {
  const deleted = object.type === 'harbor.artifact.deleted';
  if (object.type !== 'harbor.artifact.pushed' && !deleted)
    return {
      pushes: [],
      deletes: [],
      ignored: [`CloudEvent ${named(object.type)} is not harbor.artifact.pushed or harbor.artifact.deleted`],
    };
  if (!object.data || typeof object.data !== 'object')
    throw new NotificationError(`CloudEvent ${String(object.type)} has no "data" object`);
  return asDeletes(fromHarborData(object.data, 'cloudevents', deleted), deleted);
}

function asDeletes(parsed: ParsedNotification, deleted: boolean): ParsedNotification {
  return deleted ? { ...parsed, pushes: [], deletes: parsed.pushes } : parsed;
}

function fromHarborData(data: HarborEventData, format: PushEvent['format'], deleted = false): ParsedNotification {
  const repo = data.repository;
  if (!repo || typeof repo.namespace !== 'string' || typeof repo.name !== 'string') {
    throw new NotificationError('event_data.repository must have string "namespace" (the project) and "name"');
  }
  if (!Array.isArray(data.resources) || data.resources.length === 0)
    throw new NotificationError('event_data.resources must list the pushed artifact');
  const pushes: PushEvent[] = [];
  const ignored: string[] = [];
  // One Harbor event is one push: a bad resource rejects it whole (Harbor retries), nothing half-accepted.
  for (const resource of data.resources.slice(0, MAX_PUSHES_PER_NOTIFICATION)) {
    if (!resource || typeof resource !== 'object' || Array.isArray(resource))
      throw new NotificationError('every entry of event_data.resources must be an object with "digest" and "tag"');
    if (deleted && (resource.digest === '' || resource.digest === undefined)) {
      // Harbor 1.x lists a tag it did not find with an empty digest: nothing was deleted for it.
      ignored.push(`deleted tag ${named(resource.tag)} has no digest (Harbor did not find it)`);
      continue;
    }
    pushes.push(
      checked({ project: repo.namespace, repository: repo.name, digest: resource.digest, tag: resource.tag, format }),
    );
  }
  return { pushes, deletes: [], ignored: [...ignored, ...overCap(data.resources.length, 'resources of the event')] };
}

/** The `ignored` line for what lies beyond the cap: one line with a count, whatever the count. */
function overCap(count: number, what: string): string[] {
  const over = count - MAX_PUSHES_PER_NOTIFICATION;
  return over > 0
    ? [
        `${over} more ${what} not read: at most ${MAX_PUSHES_PER_NOTIFICATION} are taken from one notification; run a manual sync (POST /api/v1/sync) for the rest`,
      ]
    : [];
}

interface EnvelopeEvent {
  action?: unknown;
  target?: { mediaType?: unknown; digest?: unknown; repository?: unknown; tag?: unknown; url?: unknown };
}

/**
 * Each event stands alone: a malformed one is listed under `ignored` with the reason and the others are
 * taken, because Distribution resends a refused batch forever and one bad event would block the endpoint.
 */
function fromEnvelope(events: unknown[]): ParsedNotification {
  const pushes: PushEvent[] = [];
  const deletes: PushEvent[] = [];
  const ignored: string[] = [];
  events.slice(0, MAX_PUSHES_PER_NOTIFICATION).forEach((raw, index) => {
    try {
      const outcome = fromEnvelopeEvent(raw as EnvelopeEvent);
      if (typeof outcome === 'string') ignored.push(outcome);
      else if ((raw as EnvelopeEvent).action === 'delete') deletes.push(outcome);
      else pushes.push(outcome);
    } catch (error) {
      if (!(error instanceof NotificationError)) throw error;
      ignored.push(`events[${index}] is malformed: ${error.message}`);
    }
  });
  ignored.push(...overCap(events.length, 'events of the envelope'));
  return { pushes, deletes, ignored };
}

/** The push of one envelope event, or why it is not one. */
function fromEnvelopeEvent(event: EnvelopeEvent): PushEvent | string {
  if (!event || typeof event !== 'object' || !event.target || typeof event.target !== 'object')
    throw new NotificationError('every entry of "events" needs a "target" object');
  const { target } = event;
  if (event.action === 'delete') return fromEnvelopeDelete(target);
  if (event.action !== 'push') return `registry ${named(event.action)} event`;
  if (!isManifestType(typeof target.mediaType === 'string' ? target.mediaType : undefined))
    return `push of ${named(target.mediaType)} (not a manifest)`;
  const where = inHarborProject(target.repository);
  return typeof where === 'string'
    ? where
    : checked({ ...where, digest: target.digest, tag: target.tag, format: 'distribution' });
}

/** A registry path as Harbor's project and the repository within it, or why it is not one. */
function inHarborProject(path: unknown): { project: string; repository: string } | string {
  if (typeof path !== 'string' || !path.includes('/'))
    return `repository ${named(path)} is not inside a Harbor project`;
  const slash = path.indexOf('/');
  return { project: path.slice(0, slash), repository: path.slice(slash + 1) };
}

/**
 * A registry delete names only what its request named: a manifest (or blob) by digest, which is taken (a blob's
 * digest matches no tag the service wrote, so its job finds nothing), or a tag or repository alone, which is not.
 */
function fromEnvelopeDelete(target: NonNullable<EnvelopeEvent['target']>): PushEvent | string {
  if (target.digest === undefined || target.digest === '')
    return `registry delete of ${named(target.repository)}${target.tag === undefined ? '' : `:${named(target.tag)}`} names no digest (the sweep with ReconcileDeletes=true catches it)`;
  const where = inHarborProject(target.repository);
  return typeof where === 'string'
    ? where
    : checked({ ...where, digest: target.digest, tag: undefined, format: 'distribution' });
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

function checked(raw: {
  project: string;
  repository: string;
  digest: unknown;
  tag: unknown;
  format: PushEvent['format'];
}): PushEvent {
  const problem = harborProjectProblem(raw.project);
  if (problem) throw new NotificationError(`project ${shown(raw.project)} ${problem}`);
  if (!isValidRepository(raw.repository))
    throw new NotificationError(`repository ${shown(raw.repository)} is not a valid repository name`);
  if (typeof raw.digest !== 'string' || !isDigest(raw.digest))
    throw new NotificationError(`digest ${shown(raw.digest)} is not a sha256 digest`);
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
