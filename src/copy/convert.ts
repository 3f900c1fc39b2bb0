// Conversion of OCI manifests and indexes to their Docker equivalents, for registries that take only Docker
// formats (SWR's basic edition). Only media types change, and only where Docker has the same thing; blobs
// are untouched, so every layer keeps its digest, but the manifests get new digests.
import {
  digestOf,
  DOCKER_CONFIG,
  DOCKER_LAYER_FOREIGN,
  DOCKER_LAYER_GZIP,
  DOCKER_MANIFEST,
  DOCKER_MANIFEST_LIST,
  OCI_CONFIG,
  OCI_INDEX,
  OCI_LAYER,
  OCI_LAYER_GZIP,
  OCI_MANIFEST,
  type Descriptor,
  type FetchedManifest,
  type ImageIndex,
  type ImageManifest,
} from '../oci/index.js';

const DOCKER_LAYER_TAR = 'application/vnd.docker.image.rootfs.diff.tar';
const OCI_NONDISTRIBUTABLE_GZIP = 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip';

const LAYER_TYPES: Record<string, string> = {
  [OCI_LAYER_GZIP]: DOCKER_LAYER_GZIP,
  [OCI_LAYER]: DOCKER_LAYER_TAR,
  [OCI_NONDISTRIBUTABLE_GZIP]: DOCKER_LAYER_FOREIGN,
  [DOCKER_LAYER_GZIP]: DOCKER_LAYER_GZIP,
  [DOCKER_LAYER_TAR]: DOCKER_LAYER_TAR,
  [DOCKER_LAYER_FOREIGN]: DOCKER_LAYER_FOREIGN,
};

export class ConversionError extends Error {
  readonly code = 'CONVERSION_IMPOSSIBLE';
  constructor(message: string) {
    super(message);
    this.name = 'ConversionError';
  }
}

function serialise(value: object): { bytes: Buffer; digest: string } {
  const bytes = Buffer.from(JSON.stringify(value, null, 3));
  return { bytes, digest: digestOf(bytes) };
}

/** An OCI image manifest as Docker v2 schema 2; a Docker one is returned as it is. */
export function toDockerImage(manifest: FetchedManifest): FetchedManifest {
  if (manifest.mediaType === DOCKER_MANIFEST) return manifest;
  if (manifest.mediaType !== OCI_MANIFEST) throw new ConversionError(`${manifest.mediaType} is not an image manifest`);
  const image = manifest.parsed as ImageManifest;
  if (image.artifactType || image.subject) {
    throw new ConversionError(
      `${manifest.digest} is an OCI artifact (${image.artifactType ?? 'with a subject'}), which has no Docker equivalent`,
    );
  }
  if (image.config.mediaType !== OCI_CONFIG && image.config.mediaType !== DOCKER_CONFIG) {
    throw new ConversionError(
      `${manifest.digest} has config type ${image.config.mediaType} (not a container image, e.g. a Helm chart or a signature), which has no Docker equivalent`,
    );
  }
  const layers = image.layers.map((layer) => {
    const type = LAYER_TYPES[layer.mediaType];
    if (!type)
      throw new ConversionError(
        `${manifest.digest} has a ${layer.mediaType} layer (${layer.digest}), which Docker formats cannot describe; push it with gzip layers`,
      );
    const out: Descriptor = { mediaType: type, size: layer.size, digest: layer.digest };
    if (layer.urls) out.urls = layer.urls;
    return out;
  });
  const docker: ImageManifest = {
    schemaVersion: 2,
    mediaType: DOCKER_MANIFEST,
    config: { mediaType: DOCKER_CONFIG, size: image.config.size, digest: image.config.digest },
    layers,
  };
  return { mediaType: DOCKER_MANIFEST, parsed: docker, ...serialise(docker) };
}

/** An OCI index as a Docker manifest list over already converted children (old digest -> new descriptor). */
export function toDockerList(manifest: FetchedManifest, children: Map<string, Descriptor>): FetchedManifest {
  if (manifest.mediaType !== OCI_INDEX && manifest.mediaType !== DOCKER_MANIFEST_LIST)
    throw new ConversionError(`${manifest.mediaType} is not an index`);
  const index = manifest.parsed as ImageIndex;
  if (index.artifactType || index.subject)
    throw new ConversionError(`${manifest.digest} is an OCI artifact index, which has no Docker equivalent`);
  const manifests = index.manifests.map((child) => {
    const converted = children.get(child.digest);
    if (!converted) throw new ConversionError(`child ${child.digest} of ${manifest.digest} was not converted`);
    const out: Descriptor = { mediaType: converted.mediaType, size: converted.size, digest: converted.digest };
    if (child.platform) out.platform = child.platform;
    return out;
  });
  const list: ImageIndex = { schemaVersion: 2, mediaType: DOCKER_MANIFEST_LIST, manifests };
  if (manifest.mediaType === DOCKER_MANIFEST_LIST && manifests.every((m, i) => m.digest === index.manifests[i].digest))
    return manifest;
  return { mediaType: DOCKER_MANIFEST_LIST, parsed: list, ...serialise(list) };
}

export function isOciManifestType(mediaType: string): boolean {
  return mediaType === OCI_MANIFEST || mediaType === OCI_INDEX;
}
