// Owns reading images back from a registry: manifests, tags, and the completeness walk that
// tests and the benchmark use to prove a copy is whole.
import { createHash } from 'node:crypto';
import { INDEX_TYPES, MANIFEST_TYPES, type Descriptor } from './media-types.js';
import { blobStream, call, describe, header, type RegistryAccess } from './registry-http.js';

/** A manifest's or an index's JSON: the fields the tests read (a registry's JSON may have more). */
export interface ManifestJson {
  schemaVersion?: number;
  mediaType?: string;
  artifactType?: string;
  config?: Descriptor;
  layers?: Descriptor[];
  manifests?: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface FetchedManifest {
  digest: string;
  mediaType: string;
  body: Buffer;
  json: ManifestJson;
}

export async function getManifest(
  target: RegistryAccess,
  repo: string,
  ref: string,
): Promise<FetchedManifest | undefined> {
  const res = await call(target, {
    method: 'GET',
    path: `/v2/${repo}/manifests/${ref}`,
    repo,
    headers: { accept: MANIFEST_TYPES.join(', ') },
  });
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw new Error(`get manifest ${repo}:${ref}: ${describe(res)}`);
  const json = JSON.parse(res.body.toString('utf8')) as ManifestJson;
  // The digest of the bytes received, not the header: what a copy must preserve is the bytes.
  const digest = `sha256:${createHash('sha256').update(res.body).digest('hex')}`;
  const mediaType = json.mediaType ?? header(res, 'content-type') ?? '';
  return { digest, mediaType, body: res.body, json };
}

export async function listTags(target: RegistryAccess, repo: string): Promise<string[]> {
  const tags: string[] = [];
  let path: string | undefined = `/v2/${repo}/tags/list`;
  while (path) {
    const res = await call(target, { method: 'GET', path, repo });
    if (res.status === 404) return tags;
    if (res.status !== 200) throw new Error(`list tags of ${repo}: ${describe(res)}`);
    tags.push(...((JSON.parse(res.body.toString('utf8')).tags as string[] | null) ?? []));
    // Link: </v2/...?last=x&n=y>; rel="next"
    path = /<([^>]+)>\s*;\s*rel="?next"?/.exec(header(res, 'link') ?? '')?.[1];
  }
  return tags;
}

async function blobContentDigest(target: RegistryAccess, repo: string, digest: string): Promise<string | undefined> {
  const { status, body } = await blobStream(target, repo, digest);
  if (status !== 200) {
    body.resume();
    return undefined;
  }
  const hash = createHash('sha256');
  for await (const chunk of body) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

export interface CheckOptions {
  /** Also download every blob and hash it: catches corruption that keeps the size. */
  verifyContent?: boolean;
}

class Walk {
  readonly problems: string[] = [];
  private readonly seenBlobs = new Set<string>();

  constructor(
    private readonly target: RegistryAccess,
    private readonly repo: string,
    private readonly opts: CheckOptions,
  ) {}

  async manifest(ref: string, where: string, expected?: Descriptor): Promise<void> {
    const m = await getManifest(this.target, this.repo, ref);
    if (!m) {
      this.problems.push(`${where}: manifest ${ref} missing`);
      return;
    }
    if (expected && (m.digest !== expected.digest || m.body.length !== expected.size)) {
      this.problems.push(`${where}: manifest ${expected.digest} served as ${m.digest} (${m.body.length} bytes)`);
    }
    if (INDEX_TYPES.includes(m.mediaType)) {
      for (const child of m.json.manifests ?? []) {
        const p = child.platform;
        const label = p ? `${p.os}/${p.architecture}${p.variant ? '/' + p.variant : ''}` : child.digest;
        await this.manifest(child.digest, `${where} -> ${label}`, child);
      }
      return;
    }
    if (!MANIFEST_TYPES.includes(m.mediaType as (typeof MANIFEST_TYPES)[number])) {
      this.problems.push(`${where}: unexpected manifest media type ${m.mediaType}`);
      return;
    }
    const blobs = [m.json.config, ...(m.json.layers ?? [])].filter((d): d is Descriptor => Boolean(d));
    for (const blob of blobs) await this.blob(blob, where);
  }

  private async blob(d: Descriptor, where: string): Promise<void> {
    if (this.seenBlobs.has(d.digest)) return;
    this.seenBlobs.add(d.digest);
    const head = await call(this.target, {
      method: 'HEAD',
      path: `/v2/${this.repo}/blobs/${d.digest}`,
      repo: this.repo,
    });
    if (head.status !== 200) {
      this.problems.push(`${where}: blob ${d.digest} (${d.mediaType}) missing: HEAD ${head.status}`);
      return;
    }
    const length = Number(header(head, 'content-length'));
    if (length !== d.size) {
      this.problems.push(`${where}: blob ${d.digest} has ${length} bytes, manifest says ${d.size}`);
      return;
    }
    if (this.opts.verifyContent) {
      const actual = await blobContentDigest(this.target, this.repo, d.digest);
      if (actual !== d.digest)
        this.problems.push(`${where}: blob ${d.digest} content hashes to ${actual ?? 'nothing'}`);
    }
  }
}

/** Walks index -> manifests -> config and layers; throws one Error naming everything missing or wrong. */
export async function assertImageComplete(
  target: RegistryAccess,
  repo: string,
  ref: string,
  opts: CheckOptions = {},
): Promise<void> {
  const walk = new Walk(target, repo, opts);
  await walk.manifest(ref, `${repo}:${ref}`);
  if (walk.problems.length > 0) {
    throw new Error(`image ${repo}:${ref} at ${target.url} is incomplete:\n  ${walk.problems.join('\n  ')}`);
  }
}
