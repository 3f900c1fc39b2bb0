// Plain data shapes of the OCI image graph (descriptors, manifests, indexes), shared by the client and the copy engine.

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: Platform;
  artifactType?: string;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

/** A manifest exactly as the registry served it: the bytes are what the digest covers, so they are never re-serialised. */
export interface FetchedManifest {
  mediaType: string;
  digest: string;
  bytes: Buffer;
  parsed: ImageManifest | ImageIndex;
}

export function platformString(p: Platform | undefined): string {
  if (!p) return 'unknown';
  return p.variant ? `${p.os}/${p.architecture}/${p.variant}` : `${p.os}/${p.architecture}`;
}
