// Request paths built from repository names, tags and digests: each part is checked against the grammar
// before it becomes a path, so that no name (from a user, a webhook or a registry's own listing) can leave
// its `/v2/<repository>/` prefix through `..`, `%2e`, `?` or `#`.
import { isDigest } from './digest.js';
import { RegistryError } from './errors.js';
import { peerText } from './peer-text.js';
import { isValidRepository, isValidTag } from './reference.js';

function invalid(host: string, what: string, value: string, hint: string): RegistryError {
  return new RegistryError({
    code: 'NAME_INVALID',
    status: 0,
    host,
    message: `${what} "${peerText(value, 200)}" is not valid, so no request was made to ${host}`,
    hint,
  });
}

/** `/v2/<repository>/`, once the name has passed the distribution grammar (no `.` or `..` segments). */
export function repositoryPath(host: string, repository: string): string {
  if (!isValidRepository(repository))
    throw invalid(
      host,
      'repository name',
      repository,
      'use lowercase letters, digits and . _ - separators between /-separated parts',
    );
  return `/v2/${repository}/`;
}

export function manifestPath(host: string, repository: string, reference: string): string {
  if (!isValidTag(reference) && !isDigest(reference))
    throw invalid(
      host,
      'tag or digest',
      reference,
      'a tag is letters, digits, _ . - (at most 128, not starting with . or -); a digest is sha256:<64 hex>',
    );
  return `${repositoryPath(host, repository)}manifests/${reference}`;
}

export function blobPath(host: string, repository: string, digest: string): string {
  if (!isDigest(digest)) throw invalid(host, 'digest', digest, 'a digest is sha256:<64 hex> or sha512:<128 hex>');
  return `${repositoryPath(host, repository)}blobs/${digest}`;
}

export function referrersPath(host: string, repository: string, digest: string): string {
  if (!isDigest(digest)) throw invalid(host, 'digest', digest, 'a digest is sha256:<64 hex> or sha512:<128 hex>');
  return `${repositoryPath(host, repository)}referrers/${digest}`;
}
