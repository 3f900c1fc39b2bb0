// Media types of the OCI and Docker manifest formats, and what kind of node each is in an image graph.

export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const DOCKER_SCHEMA1 = 'application/vnd.docker.distribution.manifest.v1+json';
export const DOCKER_SCHEMA1_SIGNED = 'application/vnd.docker.distribution.manifest.v1+prettyjws';
export const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
export const DOCKER_LAYER_GZIP = 'application/vnd.docker.image.rootfs.diff.tar.gzip';
export const DOCKER_LAYER_FOREIGN = 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip';
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const OCI_EMPTY = 'application/vnd.oci.empty.v1+json';
export const OCI_LAYER = 'application/vnd.oci.image.layer.v1.tar';
export const OCI_LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
export const OCI_LAYER_ZSTD = 'application/vnd.oci.image.layer.v1.tar+zstd';

const INDEX_TYPES = new Set([DOCKER_MANIFEST_LIST, OCI_INDEX]);
const IMAGE_TYPES = new Set([DOCKER_MANIFEST, OCI_MANIFEST]);
const SCHEMA1_TYPES = new Set([DOCKER_SCHEMA1, DOCKER_SCHEMA1_SIGNED, 'application/json']);

/** Every manifest type we can copy, most preferred first; schema 1 last so that we can name it when a registry only has that. */
export const MANIFEST_ACCEPT = [
  OCI_INDEX,
  DOCKER_MANIFEST_LIST,
  OCI_MANIFEST,
  DOCKER_MANIFEST,
  `${DOCKER_SCHEMA1_SIGNED};q=0.1`,
  `${DOCKER_SCHEMA1};q=0.1`,
].join(', ');

export function isIndexType(mediaType: string | undefined): boolean {
  return mediaType !== undefined && INDEX_TYPES.has(mediaType);
}

export function isImageManifestType(mediaType: string | undefined): boolean {
  return mediaType !== undefined && IMAGE_TYPES.has(mediaType);
}

export function isManifestType(mediaType: string | undefined): boolean {
  return isIndexType(mediaType) || isImageManifestType(mediaType);
}

export function isSchema1Type(mediaType: string | undefined): boolean {
  return mediaType !== undefined && SCHEMA1_TYPES.has(mediaType);
}

/** Strip parameters ("; charset=utf-8") that some registries add to Content-Type. */
export function bareMediaType(contentType: string | undefined): string | undefined {
  if (!contentType) return undefined;
  return contentType.split(';')[0].trim().toLowerCase();
}
