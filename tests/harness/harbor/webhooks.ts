// Owns the notification bodies the service under test consumes: Harbor 2.x webhook payloads
// (Default and CloudEvents formats), Harbor 1.10's pushImage and deleteImage, and Distribution's notification
// envelope (v1 and v2).
import { randomUUID } from 'node:crypto';

export interface PushEvent {
  project: string;
  /** Without the project. */
  repository: string;
  digest: string;
  /** undefined: Harbor puts the digest in `tag`, as it does for pushes by digest. */
  tag?: string;
  operator?: string;
}

/**
 * pushImage and deleteImage: Harbor 1.9/1.10's names for a push and a tag deletion, with the same Default
 * payload (1.x has no CloudEvents).
 */
export type HarborEventType = 'PUSH_ARTIFACT' | 'PULL_ARTIFACT' | 'DELETE_ARTIFACT' | 'pushImage' | 'deleteImage';
export type CloudEventType = Exclude<HarborEventType, 'pushImage' | 'deleteImage'>;

/** What only a Harbor instance knows about the event: its host, the project's id and visibility. */
export interface HarborSite {
  /** ext_endpoint's host, e.g. harbor.example.com or 127.0.0.1:PORT. */
  host: string;
  projectId: number;
  public: boolean;
  /** Unix seconds; undefined for a deleted repository, which Harbor then leaves out. */
  repoCreated?: number;
  policyId?: number;
  /** Defaults to now. */
  occurAt?: Date;
}

const CLOUD_EVENT_TYPES: Record<CloudEventType, string> = {
  PUSH_ARTIFACT: 'harbor.artifact.pushed',
  PULL_ARTIFACT: 'harbor.artifact.pulled',
  DELETE_ARTIFACT: 'harbor.artifact.deleted',
};

export function eventData(e: PushEvent, site: HarborSite): object {
  const tag = e.tag ?? e.digest;
  const full = `${e.project}/${e.repository}`;
  // A digest in `tag` (no real tag) makes the reference a digest one.
  const ref = tag.startsWith('sha256:') ? `@${tag}` : `:${tag}`;
  return {
    resources: [{ digest: e.digest, tag, resource_url: `${site.host}/${full}${ref}` }],
    repository: {
      ...(site.repoCreated !== undefined ? { date_created: site.repoCreated } : {}),
      name: e.repository,
      namespace: e.project,
      repo_full_name: full,
      repo_type: site.public ? 'public' : 'private',
    },
  };
}

function unixSeconds(d: Date): number {
  return Math.floor(d.getTime() / 1000);
}

export function harborDefaultPayload(
  type: HarborEventType,
  e: PushEvent,
  site: HarborSite,
): { body: string; contentType: string } {
  const body = {
    type,
    occur_at: unixSeconds(site.occurAt ?? new Date()),
    operator: e.operator ?? 'admin',
    event_data: eventData(e, site),
  };
  return { body: JSON.stringify(body), contentType: 'application/json' };
}

export function harborCloudEventsPayload(
  type: CloudEventType,
  e: PushEvent,
  site: HarborSite,
): { body: string; contentType: string } {
  const body = {
    specversion: '1.0',
    id: randomUUID(),
    requestid: randomUUID(),
    source: `/projects/${site.projectId}/webhook/policies/${site.policyId ?? 1}`,
    type: CLOUD_EVENT_TYPES[type],
    datacontenttype: 'application/json',
    // RFC 3339 to the second, as Harbor formats it.
    time: (site.occurAt ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    operator: e.operator ?? 'admin',
    data: eventData(e, site),
  };
  return { body: JSON.stringify(body), contentType: 'application/cloudevents+json' };
}

/** One multi-arch push as Harbor reports it: each child (tag = its digest), then the index. */
export function multiArchPushEvents(
  project: string,
  repo: string,
  index: { digest: string; tag: string },
  childDigests: string[],
  operator?: string,
): PushEvent[] {
  const op = operator === undefined ? {} : { operator };
  return [
    ...childDigests.map((digest) => ({ project, repository: repo, digest, tag: digest, ...op })),
    { project, repository: repo, digest: index.digest, tag: index.tag, ...op },
  ];
}

export interface RegistryEvent {
  action: 'push' | 'pull' | 'delete' | 'mount';
  /** Full, with the project. */
  repository: string;
  digest: string;
  tag?: string;
  mediaType: string;
  size: number;
  fromRepository?: string;
}

export interface EnvelopeOptions {
  /** The registry's host as clients addressed it (target.url, request.host). */
  host?: string;
  actor?: string;
  timestamp?: Date;
}

const MANIFEST_MEDIA_TYPES = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v1+prettyjws',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
];

const METHODS: Record<RegistryEvent['action'], string> = { push: 'PUT', pull: 'GET', mount: 'POST', delete: 'DELETE' };

function target(e: RegistryEvent, version: 'v1' | 'v2', host: string): object {
  if (e.action === 'delete') {
    // Distribution's delete events carry only what was named in the request.
    return e.tag !== undefined
      ? { repository: e.repository, tag: e.tag }
      : { digest: e.digest, repository: e.repository };
  }
  const manifest = MANIFEST_MEDIA_TYPES.includes(e.mediaType);
  const url = `https://${host}/v2/${e.repository}/${manifest ? 'manifests' : 'blobs'}/${e.digest}`;
  // v2.8's own Descriptor orders size before digest; v3 embeds the OCI descriptor (digest first).
  const descriptor =
    version === 'v1'
      ? { mediaType: e.mediaType, size: e.size, digest: e.digest }
      : { mediaType: e.mediaType, digest: e.digest, size: e.size };
  return {
    ...descriptor,
    length: e.size,
    repository: e.repository,
    ...(e.action === 'mount' && e.fromRepository ? { fromRepository: e.fromRepository } : {}),
    url,
    // Blobs never have a tag; manifests only when the request named one.
    ...(manifest && e.tag !== undefined ? { tag: e.tag } : {}),
  };
}

export function distributionEnvelope(
  events: RegistryEvent[],
  version: 'v1' | 'v2',
  options: EnvelopeOptions = {},
): { contentType: string; body: string } {
  const host = options.host ?? 'harbor.example.com';
  const instanceID = randomUUID();
  const envelope = {
    events: events.map((e) => ({
      id: randomUUID(),
      timestamp: (options.timestamp ?? new Date()).toISOString(),
      action: e.action,
      target: target(e, version, host),
      request: {
        id: randomUUID(),
        addr: '10.0.0.7:52114',
        host,
        method: METHODS[e.action],
        useragent: 'docker/24.0.7 go/go1.20.10 git-commit/311b9ff kernel/6.1.0 os/linux arch/amd64',
      },
      actor: { name: options.actor ?? 'admin' },
      source: { addr: 'registry-7d9f8c6b5-x2kqp:5000', instanceID },
    })),
  };
  return { contentType: `application/vnd.docker.distribution.events.${version}+json`, body: JSON.stringify(envelope) };
}
