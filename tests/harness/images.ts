// Owns pushing synthetic images, indexes and artifacts to a real registry for tests and the
// benchmark. Talks HTTP itself (registry-http.ts), never through src/.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { layerDigest, layerStream, type LayerSpec } from './layers.js';
import { OCI_EMPTY, OCI_MANIFEST, formatTypes, type Descriptor, type Format, type Platform } from './media-types.js';
import { call, describe, header, type RegistryAccess } from './registry-http.js';

export type { RegistryAccess } from './registry-http.js';
export type { LayerSpec } from './layers.js';
export { layerDigest, layerBlobSize } from './layers.js';
export * from './media-types.js';
export { getManifest, listTags, assertImageComplete, type FetchedManifest } from './image-check.js';

export interface PushedImage {
  digest: string;
  mediaType: string;
  size: number;
  config: Descriptor;
  layers: Descriptor[];
}

export interface PushedIndex {
  digest: string;
  mediaType: string;
  size: number;
  children: Array<Descriptor & { platform: Platform }>;
  /** The pushed children in full, in the order of `children`. */
  images: PushedImage[];
}

export interface ImageOptions {
  format: Format;
  layers: LayerSpec[];
  platform?: Platform;
  /** Go into the config's Labels: a cheap way to get distinct images from the same layers. */
  labels?: Record<string, string>;
}

const DEFAULT_PLATFORM: Platform = { os: 'linux', architecture: 'amd64' };

function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** Monolithic upload: HEAD first so shared blobs are sent once per repository. */
async function pushBlob(
  target: RegistryAccess,
  repo: string,
  digest: string,
  size: number,
  body: () => Buffer | Readable,
): Promise<void> {
  const head = await call(target, { method: 'HEAD', path: `/v2/${repo}/blobs/${digest}`, repo });
  if (head.status === 200) return;
  const start = await call(target, { method: 'POST', path: `/v2/${repo}/blobs/uploads/`, repo });
  const location = header(start, 'location');
  if (start.status !== 202 || !location) throw new Error(`start upload to ${repo}: ${describe(start)}`);
  const url = new URL(location, target.url);
  url.searchParams.set('digest', digest);
  const put = await call(target, {
    method: 'PUT',
    path: url.toString(),
    repo,
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
    body,
  });
  if (put.status !== 201) throw new Error(`upload ${digest} to ${repo}: ${describe(put)}`);
}

export async function pushLayer(
  target: RegistryAccess,
  repo: string,
  spec: LayerSpec,
  mediaType = formatTypes('oci').layer,
): Promise<Descriptor> {
  const { digest, size } = await layerDigest(spec);
  await pushBlob(target, repo, digest, size, () => layerStream(spec));
  return { mediaType, digest, size };
}

async function pushJsonBlob(
  target: RegistryAccess,
  repo: string,
  mediaType: string,
  data: Buffer,
): Promise<Descriptor> {
  const digest = sha256(data);
  await pushBlob(target, repo, digest, data.length, () => data);
  return { mediaType, digest, size: data.length };
}

/** PUT a manifest by tag, or by its own digest when no tag is given. */
export async function putManifest(
  target: RegistryAccess,
  repo: string,
  tag: string | undefined,
  mediaType: string,
  body: Buffer,
): Promise<string> {
  const digest = sha256(body);
  const res = await call(target, {
    method: 'PUT',
    path: `/v2/${repo}/manifests/${tag ?? digest}`,
    repo,
    headers: { 'content-type': mediaType },
    body: () => body,
  });
  if (res.status !== 201) throw new Error(`put manifest ${repo}:${tag ?? digest}: ${describe(res)}`);
  return digest;
}

export async function pushImage(
  target: RegistryAccess,
  repo: string,
  tag: string | undefined,
  opts: ImageOptions,
): Promise<PushedImage> {
  const types = formatTypes(opts.format);
  const platform = opts.platform ?? DEFAULT_PLATFORM;
  const layers = await Promise.all(opts.layers.map((spec) => pushLayer(target, repo, spec, types.layer)));
  const diffIds = await Promise.all(opts.layers.map(async (spec) => (await layerDigest(spec)).diffId));
  // Platform and diff_ids in the config make every distinct image's config digest distinct.
  const configJson = {
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    created: '1970-01-01T00:00:00Z',
    config: opts.labels ? { Labels: opts.labels } : {},
    rootfs: { type: 'layers', diff_ids: diffIds },
  };
  const config = await pushJsonBlob(target, repo, types.config, Buffer.from(JSON.stringify(configJson)));
  const manifest = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: types.manifest, config, layers }, null, 2),
  );
  const digest = await putManifest(target, repo, tag, types.manifest, manifest);
  return { digest, mediaType: types.manifest, size: manifest.length, config, layers };
}

export interface IndexOptions {
  format: Format;
  images: Array<{ platform: Platform; layers: LayerSpec[]; labels?: Record<string, string> }>;
}

export async function pushIndex(
  target: RegistryAccess,
  repo: string,
  tag: string | undefined,
  opts: IndexOptions,
): Promise<PushedIndex> {
  const types = formatTypes(opts.format);
  const children: PushedIndex['children'] = [];
  const images: PushedImage[] = [];
  // Children go first and by digest: the registry may refuse an index naming unknown manifests.
  for (const image of opts.images) {
    const pushed = await pushImage(target, repo, undefined, { format: opts.format, ...image });
    images.push(pushed);
    children.push({ mediaType: pushed.mediaType, digest: pushed.digest, size: pushed.size, platform: image.platform });
  }
  const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: types.index, manifests: children }, null, 2));
  const digest = await putManifest(target, repo, tag, types.index, body);
  return { digest, mediaType: types.index, size: body.length, children, images };
}

export interface ArtifactOptions {
  subject: Descriptor;
  artifactType: string;
  payload: Buffer;
  payloadMediaType?: string;
  /** Also tag it `sha256-<subject hex>`, the OCI 1.1 referrers fallback for registries without the API. */
  fallbackTag?: boolean;
}

/** A cosign/SBOM-like OCI artifact: empty config, one payload layer, `subject` pointing at an image. */
export async function pushArtifact(target: RegistryAccess, repo: string, opts: ArtifactOptions): Promise<Descriptor> {
  const config = await pushJsonBlob(target, repo, OCI_EMPTY, Buffer.from('{}'));
  const layer = await pushJsonBlob(target, repo, opts.payloadMediaType ?? 'application/octet-stream', opts.payload);
  const subject = { mediaType: opts.subject.mediaType, digest: opts.subject.digest, size: opts.subject.size };
  const body = Buffer.from(
    JSON.stringify(
      { schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: opts.artifactType, config, layers: [layer], subject },
      null,
      2,
    ),
  );
  const digest = await putManifest(target, repo, undefined, OCI_MANIFEST, body);
  if (opts.fallbackTag) {
    await putManifest(target, repo, opts.subject.digest.replace(':', '-'), OCI_MANIFEST, body);
  }
  return { mediaType: OCI_MANIFEST, digest, size: body.length, artifactType: opts.artifactType };
}

/** Where Distribution's filesystem driver keeps a blob's bytes, so a test can damage them. */
export function blobPath(storageDir: string, digest: string): string {
  const [algorithm, hex] = digest.split(':');
  if (!algorithm || !hex) throw new Error(`not a digest: ${digest}`);
  return join(storageDir, 'docker/registry/v2/blobs', algorithm, hex.slice(0, 2), hex, 'data');
}
