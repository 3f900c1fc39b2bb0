// Token requests of a 120-repository copy against a real docker-registry with token auth: one token for each
// batch of 10 repositories instead of one per repository (issue 14, item 2), and images still complete.
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { copyRepositories, CopyEngine } from '../../src/copy/index.js';
import { clientFor } from '../harness/clients.js';
import { assertImageComplete, pushImage } from '../harness/images.js';
import { startRegistry, type RunningRegistry } from '../harness/registry.js';

let source: RunningRegistry;
let token: RunningRegistry;

beforeAll(async () => {
  [source, token] = await Promise.all([startRegistry({ auth: 'none' }), startRegistry({ auth: 'token' })]);
});

afterAll(async () => {
  await Promise.all([source?.stop(), token?.stop()]);
});

test('a 120-repository copy asks 12 tokens (was 120), each for 10 repositories', async () => {
  const names = Array.from({ length: 120 }, (_, i) => `batch/app${String(i).padStart(3, '0')}`);
  for (const name of names)
    await pushImage(source, name, 'v1', { format: 'docker', layers: [{ seed: `token-batch-${name}`, size: 500 }] });
  const from = clientFor(source);
  const to = clientFor(token, { push: true });
  try {
    const results = await copyRepositories(new CopyEngine(), {
      source: from,
      destination: to,
      repositories: names.map((name) => ({ from: name, to: name })),
    });
    expect(results.map((r) => r.status)).toEqual(names.map(() => 'copied'));
    const issued = token.tokenServer!.issued;
    expect(issued.length).toBe(12);
    expect(issued.map((t) => t.scopes.length)).toEqual(issued.map(() => 10));
    for (const name of [names[0], names[59], names[119]]) await assertImageComplete(token, name, 'v1');
  } finally {
    await Promise.all([from.close(), to.close()]);
  }
});
