// "Durable before 2xx" with group commit, at process level: `serve` (the built CLI, SQLite backend) takes a
// burst of concurrent webhooks and is killed with SIGKILL as soon as half of them are answered; after a
// restart on the same DataDir every job an answer named is in the store. (Dedupe within a group:
// group-commit.test.ts; here jobs run and fail between webhooks, and a failed job answers no duplicate.)
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import Database from 'better-sqlite3';
import { distributionEnvelope, startHarbor, type HarborStandIn } from '../harness/harbor/index.js';
import { startRegistry, type RunningRegistry } from '../harness/registry.js';
import { plainRequest, startServeProcess, type ServeProcess } from '../harness/serve-process.js';

const WEBHOOKS = 120;
const DISTINCT = 40;

let harbor: HarborStandIn;
let dst: RunningRegistry;
let serve: ServeProcess | undefined;

beforeAll(async () => {
  [harbor, dst] = await Promise.all([startHarbor({ projects: [{ name: 'proj', public: false }] }), startRegistry()]);
});

afterAll(async () => {
  await serve?.stop();
  await Promise.all([harbor?.stop(), dst?.stop()]);
});

function webhook(i: number): { body: string; contentType: string } {
  const n = i % DISTINCT;
  return distributionEnvelope(
    [
      {
        action: 'push',
        repository: `proj/kill${n}`,
        digest: `sha256:${n.toString(16).padStart(64, '0')}`,
        tag: 'v1',
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        size: 500,
      },
    ],
    'v2',
  );
}

test('SIGKILL right after answers: every job an answer named survives the kill', async () => {
  serve = await startServeProcess(harbor.host, dst.host);
  const answered = new Set<string>();
  let answers = 0;
  let killed = false;
  const sends = Array.from({ length: WEBHOOKS }, async (_, i) => {
    const { body, contentType } = webhook(i);
    const res = await plainRequest(`${serve!.url}/service/notifications`, 'POST', body, {
      'content-type': contentType,
    });
    if (res.status === 200) {
      for (const id of (JSON.parse(res.body) as { jobs: string[] }).jobs) answered.add(id);
      answers++;
    }
    if (!killed && answers >= WEBHOOKS / 2) {
      killed = true;
      serve!.kill('SIGKILL');
    }
    return res.status;
  });
  const statuses = await Promise.all(sends);
  expect(await serve.exited()).toEqual({ code: null, signal: 'SIGKILL' });
  expect(answers).toBeGreaterThanOrEqual(WEBHOOKS / 2);
  // Answers other than 200 are refused connections after the kill, never an error answer.
  expect(statuses.filter((s) => s !== 200 && s !== 0)).toEqual([]);

  await serve.start();
  const db = new Database(join(serve.dataDir, 'jobs.sqlite'), { readonly: true });
  try {
    const stored = db.prepare("SELECT id FROM jobs WHERE kind = 'image'").all() as Array<{ id: string }>;
    const ids = new Set(stored.map((r) => r.id));
    expect(answered.size).toBeGreaterThan(0);
    expect([...answered].filter((id) => !ids.has(id))).toEqual([]);
  } finally {
    db.close();
  }
});
