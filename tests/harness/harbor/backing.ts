// Owns reading and writing the backing registry directly (no auth): catalog, tags, manifests and
// config blobs. Content-addressed answers are cached; tag answers never are.
import { createHash } from 'node:crypto';
import { Agent, request } from 'undici';
import type { Platform } from './artifacts.js';

export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

/** A descriptor as a manifest lists it (its config, layers, an index's manifests, a subject). */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
}

/** The fields of a manifest or an index that the stand-in reads; the registry's JSON may have more. */
export interface ManifestJson {
  mediaType?: string;
  artifactType?: string;
  config?: Descriptor;
  layers?: Descriptor[];
  manifests?: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** The fields of an image config blob that Harbor reports. */
export interface ImageConfig {
  architecture?: string;
  os?: string;
  author?: string;
  created?: string;
  docker_version?: string;
  config?: unknown;
}

export interface Manifest {
  digest: string;
  mediaType: string;
  size: number;
  json: ManifestJson;
}

type Headers = Record<string, string | string[] | undefined>;

/** A header's value, the first one when it came more than once. */
function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export class Backing {
  private readonly agent = new Agent({ connections: 16 });
  private readonly manifests = new Map<string, Manifest>();
  private readonly blobs = new Map<string, ImageConfig | undefined>();

  constructor(readonly url: string) {}

  private async get(
    path: string,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; headers: Headers; body: Buffer }> {
    const res = await request(this.url + path, { method: 'GET', headers, dispatcher: this.agent });
    return { status: res.statusCode, headers: res.headers, body: Buffer.from(await res.body.arrayBuffer()) };
  }

  /** Follows the catalog's `Link` paging to the end. */
  async catalog(): Promise<string[]> {
    const names: string[] = [];
    let path: string | undefined = '/v2/_catalog?n=1000';
    while (path) {
      const res = await this.get(path);
      if (res.status !== 200) throw new Error(`backing catalog: ${res.status} ${res.body.toString('utf8')}`);
      names.push(...((JSON.parse(res.body.toString('utf8')).repositories as string[] | null) ?? []));
      path = /<([^>]+)>\s*;\s*rel="?next"?/.exec(first(res.headers.link) ?? '')?.[1];
    }
    return names;
  }

  /** Tags of a repository; [] when the registry does not know it. */
  async tags(repo: string): Promise<string[]> {
    const tags: string[] = [];
    let path: string | undefined = `/v2/${repo}/tags/list?n=1000`;
    while (path) {
      const res = await this.get(path);
      if (res.status === 404) return tags;
      if (res.status !== 200) throw new Error(`backing tags of ${repo}: ${res.status} ${res.body.toString('utf8')}`);
      tags.push(...((JSON.parse(res.body.toString('utf8')).tags as string[] | null) ?? []));
      path = /<([^>]+)>\s*;\s*rel="?next"?/.exec(first(res.headers.link) ?? '')?.[1];
    }
    return tags;
  }

  /** A manifest by tag or digest; undefined when absent. */
  async manifest(repo: string, ref: string): Promise<Manifest | undefined> {
    if (ref.startsWith('sha256:')) {
      const cached = this.manifests.get(ref);
      // A digest present once may have been deleted from this repository since: confirm cheaply.
      if (cached && (await this.has(repo, ref))) return cached;
    }
    const res = await this.get(`/v2/${repo}/manifests/${ref}`, { accept: MANIFEST_ACCEPT });
    if (res.status === 404) return undefined;
    if (res.status !== 200)
      throw new Error(`backing manifest ${repo}:${ref}: ${res.status} ${res.body.toString('utf8')}`);
    const json = JSON.parse(res.body.toString('utf8')) as ManifestJson;
    const digest = `sha256:${createHash('sha256').update(res.body).digest('hex')}`;
    const manifest = {
      digest,
      mediaType: json.mediaType ?? first(res.headers['content-type']) ?? '',
      size: res.body.length,
      json,
    };
    this.manifests.set(digest, manifest);
    return manifest;
  }

  private async has(repo: string, digest: string): Promise<boolean> {
    const res = await request(`${this.url}/v2/${repo}/manifests/${digest}`, {
      method: 'HEAD',
      headers: { accept: MANIFEST_ACCEPT },
      dispatcher: this.agent,
    });
    await res.body.dump();
    return res.statusCode === 200;
  }

  /** A small JSON blob (an image config); undefined when absent or not JSON. */
  async jsonBlob(repo: string, digest: string): Promise<ImageConfig | undefined> {
    if (this.blobs.has(digest)) return this.blobs.get(digest);
    const res = await this.get(`/v2/${repo}/blobs/${digest}`);
    if (res.status !== 200) return undefined;
    let parsed: ImageConfig | undefined;
    try {
      parsed = JSON.parse(res.body.toString('utf8')) as ImageConfig;
    } catch {
      parsed = undefined;
    }
    this.blobs.set(digest, parsed);
    return parsed;
  }

  /** Writes an existing manifest's exact bytes under a new tag. */
  async tagManifest(repo: string, digest: string, tag: string): Promise<void> {
    const res = await this.get(`/v2/${repo}/manifests/${digest}`, { accept: MANIFEST_ACCEPT });
    if (res.status !== 200) throw new Error(`addTag: ${repo}@${digest} not found (${res.status})`);
    const put = await request(`${this.url}/v2/${repo}/manifests/${tag}`, {
      method: 'PUT',
      headers: { 'content-type': String(first(res.headers['content-type'])) },
      body: res.body,
      dispatcher: this.agent,
    });
    const text = await put.body.text();
    if (put.statusCode !== 201) throw new Error(`addTag ${repo}:${tag}: ${put.statusCode} ${text}`);
  }

  /** Deletes a manifest by digest, and with it every tag on it (the registry's only delete). */
  async deleteManifest(repo: string, digest: string): Promise<void> {
    const res = await request(`${this.url}/v2/${repo}/manifests/${digest}`, {
      method: 'DELETE',
      dispatcher: this.agent,
    });
    const text = await res.body.text();
    if (res.statusCode !== 202) throw new Error(`delete ${repo}@${digest}: ${res.statusCode} ${text}`);
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}
