// Manifest requests: GET/HEAD/PUT by tag or digest, kept byte-exact so digests never change on the way through.
import { BODY_LIMITS, readWhole } from './body.js';
import { digestOf, isDigest } from './digest.js';
import { hasCode, RegistryError, type ErrorContext } from './errors.js';
import {
  bareMediaType,
  isManifestType,
  isSchema1Type,
  MANIFEST_ACCEPT,
  OCI_INDEX,
  OCI_MANIFEST,
} from './media-types.js';
import { manifestPath } from './paths.js';
import { header, type CallOptions, type Transport } from './transport.js';
import type { FetchedManifest, ImageIndex, ImageManifest } from './types.js';

export interface ManifestHead {
  digest: string;
  mediaType: string;
  size: number;
}

/** The token scopes a request needs, with the caller's retry counter and cancellation. */
export interface RequestScope extends CallOptions {
  scopes: string[];
}

function context(transport: Transport, repository: string, reference: string, action: string): ErrorContext {
  return { host: transport.host, repository, action, ...(isDigest(reference) ? { digest: reference } : { reference }) };
}

function path(transport: Transport, repository: string, reference: string): string {
  return manifestPath(transport.host, repository, reference);
}

export async function getManifest(
  transport: Transport,
  repository: string,
  reference: string,
  scope: RequestScope,
): Promise<FetchedManifest> {
  const ctx = context(transport, repository, reference, 'get manifest from');
  const res = await transport.expect(
    {
      method: 'GET',
      path: path(transport, repository, reference),
      headers: { accept: MANIFEST_ACCEPT },
      context: ctx,
      ...scope,
    },
    [200],
  );
  const bytes = await readWhole(res.body, BODY_LIMITS.manifest, transport.apiDeadlineMs, ctx, 'manifest').catch(
    (error: unknown) => {
      if (hasCode(error, 'BODY_TOO_LARGE')) {
        throw new RegistryError({
          code: 'MANIFEST_TOO_LARGE',
          status: 200,
          host: transport.host,
          repository,
          reference,
          message: `manifest ${repository}:${reference} is over 4 MiB`,
          hint: 'this is not an image manifest',
        });
      }
      throw error;
    },
  );
  const headerType = bareMediaType(header(res, 'content-type'));
  if (isSchema1Type(headerType) && headerType !== 'application/json')
    throw schema1Error(transport, repository, reference);
  let parsed: ImageManifest | (ImageIndex & { schemaVersion?: number; mediaType?: string });
  try {
    parsed = JSON.parse(bytes.toString('utf8')) as typeof parsed;
  } catch {
    throw new RegistryError({
      code: 'MANIFEST_INVALID',
      status: 200,
      host: transport.host,
      repository,
      reference,
      message: `manifest ${repository}:${reference} from ${transport.host} is not valid JSON`,
    });
  }
  if ((parsed as { schemaVersion?: number }).schemaVersion === 1) throw schema1Error(transport, repository, reference);
  const mediaType = pickMediaType(headerType, parsed);
  if (!isManifestType(mediaType)) {
    throw new RegistryError({
      code: 'MANIFEST_UNSUPPORTED',
      status: 200,
      host: transport.host,
      repository,
      reference,
      message: `${repository}:${reference} has media type ${mediaType}, which is not an image manifest or index`,
    });
  }
  const headerDigest = header(res, 'docker-content-digest');
  const algorithm = isDigest(reference) && reference.startsWith('sha512:') ? 'sha512' : 'sha256';
  const digest = digestOf(bytes, algorithm);
  const expected = isDigest(reference)
    ? reference
    : headerDigest?.startsWith(`${algorithm}:`)
      ? headerDigest
      : undefined;
  if (expected && expected !== digest) {
    throw new RegistryError({
      code: 'DIGEST_MISMATCH',
      status: 200,
      host: transport.host,
      repository,
      digest: expected,
      message: `manifest ${repository}@${expected} from ${transport.host} hashes to ${digest}`,
      hint: 'the registry served damaged content; check its storage',
    });
  }
  return { mediaType, digest, bytes, parsed: parsed };
}

/** HEAD a manifest; undefined when absent. A registry that leaves out Docker-Content-Digest is asked with a GET instead. */
export async function headManifest(
  transport: Transport,
  repository: string,
  reference: string,
  scope: RequestScope,
): Promise<ManifestHead | undefined> {
  const ctx = context(transport, repository, reference, 'check manifest on');
  const res = await transport.send({
    method: 'HEAD',
    path: path(transport, repository, reference),
    headers: { accept: MANIFEST_ACCEPT },
    context: ctx,
    ...scope,
  });
  await res.body.dump();
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw await transport.failure(res, ctx);
  const digest = header(res, 'docker-content-digest');
  const mediaType = bareMediaType(header(res, 'content-type'));
  if (!digest || !isDigest(digest) || !mediaType || !isManifestType(mediaType)) {
    const fetched = await getManifest(transport, repository, reference, scope);
    return { digest: fetched.digest, mediaType: fetched.mediaType, size: fetched.bytes.length };
  }
  return { digest, mediaType, size: Number(header(res, 'content-length') ?? 0) };
}

export async function putManifest(
  transport: Transport,
  repository: string,
  reference: string,
  manifest: { mediaType: string; bytes: Buffer; digest: string },
  scope: RequestScope,
): Promise<string> {
  const ctx = { ...context(transport, repository, reference, 'push manifest to'), digest: manifest.digest };
  const res = await transport.expect(
    {
      method: 'PUT',
      path: path(transport, repository, reference),
      headers: { 'content-type': manifest.mediaType },
      body: manifest.bytes,
      context: ctx,
      ...scope,
    },
    [200, 201, 202],
  );
  await res.body.dump();
  const stored = header(res, 'docker-content-digest');
  if (stored && stored.startsWith('sha256:') && manifest.digest.startsWith('sha256:') && stored !== manifest.digest) {
    throw new RegistryError({
      code: 'DIGEST_MISMATCH',
      status: res.status,
      host: transport.host,
      repository,
      digest: manifest.digest,
      message: `${transport.host} stored manifest ${manifest.digest} as ${stored}`,
      hint: 'the registry rewrote the manifest; digest pins would break',
    });
  }
  return manifest.digest;
}

/**
 * DELETE a manifest by digest, which removes every tag pointing at it. `absent` when the registry has no such
 * manifest (deleted already). A registry that refuses deletes (Distribution without `storage.delete.enabled`
 * answers 405 UNSUPPORTED) gets an error saying so, marked not retryable: another attempt gets the same answer.
 */
export async function deleteManifest(
  transport: Transport,
  repository: string,
  digest: string,
  scope: RequestScope,
): Promise<'deleted' | 'absent'> {
  const ctx = context(transport, repository, digest, 'delete manifest on');
  const res = await transport.send({
    method: 'DELETE',
    path: path(transport, repository, digest),
    context: ctx,
    ...scope,
  });
  if (res.status === 200 || res.status === 202 || res.status === 204 || res.status === 404) {
    await res.body.dump();
    return res.status === 404 ? 'absent' : 'deleted';
  }
  if (res.status === 405) {
    await res.body.dump();
    throw new RegistryError({
      code: 'UNSUPPORTED',
      status: 405,
      host: transport.host,
      repository,
      digest,
      message: `${transport.host} refuses to delete manifests (405 UNSUPPORTED: deletes are disabled in this registry)`,
      hint: 'enable them in its configuration (Distribution: storage.delete.enabled: true in config.yml, then restart it)',
      retryable: false,
    });
  }
  throw await transport.failure(res, ctx);
}

function pickMediaType(
  headerType: string | undefined,
  parsed: { mediaType?: string; manifests?: unknown; config?: unknown },
): string {
  if (parsed.mediaType && isManifestType(parsed.mediaType)) return parsed.mediaType;
  if (headerType && isManifestType(headerType)) return headerType;
  // An OCI manifest may omit mediaType; its shape says which one it is.
  if (Array.isArray(parsed.manifests)) return OCI_INDEX;
  if (parsed.config) return OCI_MANIFEST;
  return headerType ?? 'unknown';
}

function schema1Error(transport: Transport, repository: string, reference: string): RegistryError {
  return new RegistryError({
    code: 'UNSUPPORTED_SCHEMA1',
    status: 200,
    host: transport.host,
    repository,
    reference,
    message: `${repository}:${reference} on ${transport.host} is a Docker schema 1 manifest, which is unsupported (deprecated since 2017 and refused by current registries)`,
    hint: 'pull it and push it again with a current Docker or BuildKit so that it is stored as schema 2',
  });
}
