// Content digests: parsing, computing, and checking a byte stream against its descriptor while it flows.
import { createHash } from 'node:crypto';
import { RegistryError } from './errors.js';

const DIGEST_RE = /^sha256:[a-f0-9]{64}$|^sha512:[a-f0-9]{128}$/;

export function isDigest(value: string): boolean {
  return DIGEST_RE.test(value);
}

function algorithmOf(digest: string): 'sha256' | 'sha512' {
  const algorithm = digest.slice(0, digest.indexOf(':'));
  if (algorithm !== 'sha256' && algorithm !== 'sha512') {
    throw new Error(`unsupported digest algorithm in ${digest}`);
  }
  return algorithm;
}

export function digestOf(bytes: Buffer, algorithm: 'sha256' | 'sha512' = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

export interface VerifyTarget {
  digest: string;
  size: number;
  /** Where the bytes came from, for the error message. */
  host: string;
  repository: string;
  /** Told the running byte count as chunks pass (progress), without another stream stage. */
  onBytes?: (bytes: number) => void;
}

/**
 * Pass chunks through while hashing them. The last chunk is held back until the hash and length are
 * known to match, so a corrupt blob never completes an upload: the consumer sees an error instead of
 * the final bytes, and a registry never commits content that does not match its digest.
 */
export async function* verifyStream(source: AsyncIterable<Buffer>, target: VerifyTarget): AsyncGenerator<Buffer> {
  const hash = createHash(algorithmOf(target.digest));
  let length = 0;
  let held: Buffer | undefined;
  for await (const chunk of source) {
    length += chunk.length;
    if (length > target.size) throw mismatch(target, `more than the ${target.size} bytes its descriptor declares`);
    hash.update(chunk);
    target.onBytes?.(length);
    if (held) yield held;
    held = chunk;
  }
  if (length !== target.size) throw mismatch(target, `${length} bytes instead of ${target.size}`);
  const actual = `${algorithmOf(target.digest)}:${hash.digest('hex')}`;
  if (actual !== target.digest) throw mismatch(target, `content hashing to ${actual}`);
  if (held) yield held;
}

function mismatch(target: VerifyTarget, what: string): RegistryError {
  return new RegistryError({
    code: 'DIGEST_MISMATCH',
    status: 0,
    host: target.host,
    repository: target.repository,
    digest: target.digest,
    message: `blob ${target.digest} from ${target.host}/${target.repository} has ${what}`,
    hint: 'the source copy of this blob is damaged; re-push the image to the source registry',
  });
}
