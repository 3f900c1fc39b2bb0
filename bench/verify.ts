// Owns checking a destination after a copy: every source tag present at exactly the source
// digest, and every image complete down to its blobs. Returns problems instead of throwing.
import { assertImageComplete, getManifest, listTags, type RegistryAccess } from '../tests/harness/images.js';
import type { ExpectedProject } from './project.js';

export async function verifyCopy(dest: RegistryAccess, expected: ExpectedProject): Promise<string[]> {
  const problems: string[] = [];
  for (const [repo, tags] of expected.tags) {
    const present = new Set(await listTags(dest, repo));
    for (const [tag, digest] of tags) {
      if (!present.has(tag)) {
        problems.push(`${repo}:${tag} missing`);
        continue;
      }
      const got = await getManifest(dest, repo, tag);
      if (got?.digest !== digest) {
        problems.push(`${repo}:${tag} is ${got?.digest ?? 'unreadable'}, source has ${digest}`);
        continue;
      }
      try {
        await assertImageComplete(dest, repo, digest);
      } catch (err) {
        problems.push((err as Error).message);
      }
    }
  }
  return problems;
}
