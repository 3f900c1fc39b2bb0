// Image references (`host[:port]/repo/path[:tag][@digest]`): parsing and printing, with the rules of the distribution spec.
import { isDigest } from './digest.js';

export interface ImageReference {
  /** Registry host with optional port, as used in URLs. */
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

const REPOSITORY_RE = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
const TAG_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

export function isValidRepository(name: string): boolean {
  return name.length <= 255 && REPOSITORY_RE.test(name);
}

export function isValidTag(tag: string): boolean {
  return TAG_RE.test(tag);
}

/**
 * Parses a fully qualified reference. Unlike `docker`, there is no implicit docker.io: a copy between
 * two named registries should never guess one of them.
 */
export function parseReference(text: string): ImageReference {
  const slash = text.indexOf('/');
  if (slash <= 0) {
    throw new Error(
      `"${text}" is not a full image reference: write it as REGISTRY/REPOSITORY[:TAG|@DIGEST], e.g. 127.0.0.1:5000/library/nginx:1.27`,
    );
  }
  const registry = text.slice(0, slash);
  let rest = text.slice(slash + 1);
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!isDigest(digest)) throw new Error(`"${digest}" in "${text}" is not a valid digest (sha256:<64 hex>)`);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!isValidTag(tag))
      throw new Error(
        `"${tag}" in "${text}" is not a valid tag (letters, digits, _ . -, at most 128, not starting with . or -)`,
      );
  }
  if (!isValidRepository(rest)) {
    throw new Error(
      `"${rest}" in "${text}" is not a valid repository name (lowercase letters, digits and . _ - / separators)`,
    );
  }
  return { registry, repository: rest, tag, digest };
}
