// The operator commands run as the real built binary: `sync` (one-off, with its dry run) against a Harbor
// stand-in and a real destination registry, and `jobs` against a running service.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { startHarbor, type HarborStandIn } from '../harness/harbor/index.js';
import { runCli } from '../harness/cli.js';
import { assertImageComplete, getManifest, listTags, pushImage, type PushedImage } from '../harness/images.js';
import { freePort } from '../harness/ports.js';
import { startRegistry, type RunningRegistry } from '../harness/registry.js';
import { startServiceUnderTest, testServiceConfig } from '../harness/service.js';
import { until } from '../harness/until.js';
import { appConfText } from '../harness/app-conf.js';

let harbor: HarborStandIn;
let dst: RunningRegistry;
let dir: string;
let conf: Record<string, string>;
const images: Record<string, PushedImage> = {};

beforeAll(async () => {
  [harbor, dst] = await Promise.all([
    startHarbor({
      projects: [
        { name: 'proj', public: false },
        { name: 'other', public: false },
      ],
    }),
    startRegistry(),
  ]);
  dir = await mkdtemp(join(tmpdir(), 'swr-harbor-sync-cli-'));
  conf = await testServiceConfig(harbor.host, dst.host, join(dir, 'logs'), join(dir, 'data'));
  images['app:v1'] = await pushImage(harbor.access, 'proj/app', 'v1', {
    format: 'docker',
    layers: [{ seed: 'cli-app-1', size: 40_000 }],
  });
  images['app:v2'] = await pushImage(harbor.access, 'proj/app', 'v2', {
    format: 'docker',
    layers: [{ seed: 'cli-app-2', size: 40_000 }],
  });
  images['oci:v1'] = await pushImage(harbor.access, 'proj/team/oci', 'v1', {
    format: 'oci',
    layers: [{ seed: 'cli-oci', size: 20_000 }],
  });
});

afterAll(async () => {
  await Promise.all([harbor?.stop(), dst?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Runs the CLI with an app.conf made of the base values plus `extra`, as an operator's shell would. */
async function cli(args: string[], extra: Record<string, string> = {}) {
  const path = join(dir, `app-${Math.random().toString(36).slice(2)}.conf`);
  await writeFile(path, appConfText({ ...conf, ...extra }));
  // Only what the command needs: the test runner's environment would override app.conf keys.
  return runCli(args, { CONFIG_FILE: path, PATH: process.env.PATH ?? '/usr/bin:/bin' });
}

describe('sync', () => {
  test('--dry-run before anything is there: every tag would be copied, the OCI one says how it would be converted, nothing is written', async () => {
    const run = await cli(['sync', '--project', 'proj', '--dry-run']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toEqual(
      expect.arrayContaining([
        `plan    ${dst.host}/mirror/app:v1: dry run: would copy`,
        `plan    ${dst.host}/mirror/app:v2: dry run: would copy`,
        `plan    ${dst.host}/mirror/team/oci:v1: dry run: would copy as OCI; converted to Docker format if the destination refuses OCI (ManifestFormat=auto)`,
      ]),
    );
    expect(lines.at(-1)).toMatch(
      /^dry run, nothing written: 3 would be copied, 0 skipped, 0 failed of 3 images; \d+\.\d\d s$/,
    );
    expect(await listTags(dst, 'mirror/app')).toEqual([]);
  });

  test('ManifestFormat=docker: the dry run says the OCI image would be converted', async () => {
    const run = await cli(['sync', '--project', 'proj', '--repository', 'team/oci', '--dry-run'], {
      ManifestFormat: 'docker',
    });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      `plan    ${dst.host}/mirror/team/oci:v1: dry run: would copy, converted to Docker format\n`,
    );
  });

  test('--repository and --tag narrow the sync; the copy is complete and logged in the project log', async () => {
    const run = await cli(['sync', '--project', 'proj', '--repository', 'app', '--tag', 'v1']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      new RegExp(`^copied  ${dst.host}/mirror/app:v1 \\(\\d+ blobs uploaded, 0 mounted, 0 present\\)$`, 'm'),
    );
    expect(run.stdout).toMatch(/^1 copied, 0 skipped, 0 failed of 1 image;/m);
    expect(await listTags(dst, 'mirror/app')).toEqual(['v1']);
    await assertImageComplete(dst, 'mirror/app', 'v1');
    expect(await readFile(join(dir, 'logs', 'proj-success.log'), 'utf8')).toContain(
      `${dst.host}/mirror/app:v1 ${images['app:v1'].digest}`,
    );
  });

  test('a whole project, then a dry run that finds it in step, then a changed tag: skipped without --overwrite, overwritten with it', async () => {
    const first = await cli(['sync', '--project', 'proj', '--json']);
    expect(first.code).toBe(0);
    const report = JSON.parse(first.stdout) as {
      namespace: string;
      results: Array<{ destination: string; status: string; reason?: string }>;
    };
    expect(report.namespace).toBe('mirror');
    expect(report.results.map((r) => `${r.destination} ${r.status}`).sort()).toEqual([
      `${dst.host}/mirror/app:v1 skipped`,
      `${dst.host}/mirror/app:v2 copied`,
      `${dst.host}/mirror/team/oci:v1 copied`,
    ]);

    const inStep = await cli(['sync', '--project', 'proj', '--dry-run']);
    expect(inStep.stdout).toContain(
      `plan    ${dst.host}/mirror/app:v2: dry run: would skip (destination already has this digest)\n`,
    );

    const moved = await pushImage(harbor.access, 'proj/app', 'v1', {
      format: 'docker',
      layers: [{ seed: 'cli-app-1-rebuilt', size: 40_000 }],
    });
    const refused = await cli(['sync', '--project', 'proj', '--tag', 'v1', '--dry-run']);
    expect(refused.stdout).toMatch(
      new RegExp(
        `mirror/app:v1: dry run: would skip \\(destination tag points at ${images['app:v1'].digest}, not ${moved.digest}, and overwrite is off`,
      ),
    );
    expect(refused.stdout).toMatch(
      /^dry run, nothing written: 0 would be copied, 2 skipped \(1 differs: --overwrite \(or ImageOverwrite=true\) replaces it\), 0 failed of 2 images;/m,
    );
    const planned = await cli(['sync', '--project', 'proj', '--tag', 'v1', '--dry-run', '--overwrite']);
    expect(planned.stdout).toContain(
      `plan    ${dst.host}/mirror/app:v1: dry run: would overwrite the tag (now ${images['app:v1'].digest})\n`,
    );
    expect((await getManifest(dst, 'mirror/app', 'v1'))?.digest).toBe(images['app:v1'].digest);

    const overwritten = await cli(['sync', '--project', 'proj', '--tag', 'v1', '--overwrite']);
    expect(overwritten.code).toBe(0);
    expect((await getManifest(dst, 'mirror/app', 'v1'))?.digest).toBe(moved.digest);
  });

  test.each([
    [['sync', '--project', 'other'], /project other is not in NamespaceMap: add it there, or give --namespace/],
    [['sync', '--project', 'Bad_Name'], /--project "Bad_Name" is not a Harbor project name/],
    [
      ['sync', '--project', 'proj', '--namespace', '9bad'],
      /namespace "9bad" is not a valid SWR namespace: it must start with a lowercase letter/,
    ],
    [['sync', '--project', 'proj', '--tag', '-x'], /--tag "-x" is not a valid tag/],
    [['sync'], /required option '--project <name>' not specified/],
    [['sync', '--project', 'proj', '--bogus'], /unknown option '--bogus'/],
  ])('usage error %j: exit 2 with the reason, nothing written', async (args, message) => {
    const run = await cli(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(await listTags(dst, 'other-ns/app')).toEqual([]);
  });

  test('an invalid app.conf: exit 2 listing the problem', async () => {
    const run = await cli(['sync', '--project', 'proj'], { MaxBlobTransfers: '0' });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/MaxBlobTransfers must be a whole number from 1 to 20, got "0"/);
  });

  test('the destination speaks plain HTTP while SWRProtocol=https: check-config names SWRProtocol=http', async () => {
    const run = await cli(['check-config'], { SWRProtocol: 'https' });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /^FAIL .*speaks plain HTTP, not HTTPS \(ERR_SSL_WRONG_VERSION_NUMBER\): set SWRProtocol=http$/m,
    );
  });

  test('Harbor refuses the credentials: exit 1, the reason, and no password in the output', async () => {
    const run = await cli(['sync', '--project', 'proj'], { HarborPassword: 'Wrong-Secret-4242' });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: Harbor refused the credentials \(HarborUser\/HarborPassword\)/m);
    expect(run.stdout + run.stderr).not.toContain('Wrong-Secret-4242');
  });
});

describe('jobs', () => {
  test("lists and shows a running service's jobs with its token; without it, exit 1 and a hint", async () => {
    const token = 'cli-jobs-token-0123456789';
    const sut = await startServiceUnderTest(harbor.host, dst.host, { ApiToken: token, NamespaceMap: 'proj:jobs-ns' });
    try {
      const res = await fetch(`${sut.url}/api/v1/sync`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ project: 'proj', repositories: ['app'] }),
      });
      expect(res.status).toBe(202);
      const { jobId } = (await res.json()) as { jobId: string };
      // Wait through the API with the token, as the CLI will read it.
      let job: { state: string } | undefined;
      await until(`job ${jobId} to succeed`, async () => {
        job = (await (
          await fetch(`${sut.url}/api/v1/jobs/${jobId}`, { headers: { authorization: `Bearer ${token}` } })
        ).json()) as { state: string };
        return job.state === 'succeeded' ? true : undefined;
      }).catch((error: Error) => {
        throw /^timed out waiting/.test(error.message) ? new Error(`job ${jobId} is still ${job?.state}`) : error;
      });

      const list = await cli(['jobs', '--url', sut.url, '--token', token]);
      expect(list.code).toBe(0);
      const [header, row] = list.stdout.trim().split('\n');
      expect(header).toMatch(/^ID\s+STATE\s+TRIES\s+UPDATED\s+WHAT\s+PROGRESS\s+ERROR$/);
      expect(row).toMatch(new RegExp(`^${jobId}\\s+succeeded\\s+1\\s+\\S+Z\\s+proj/app -> jobs-ns\\s+2 images, `));

      const one = await cli(['jobs', jobId, '--url', sut.url], { ApiToken: token });
      expect(one.code).toBe(0);
      expect(one.stdout).toContain(`  copied  ${dst.host}/jobs-ns/app:v1`);
      expect(one.stdout).toContain(`  copied  ${dst.host}/jobs-ns/app:v2`);

      const json = await cli(['jobs', '--url', sut.url, '--token', token, '--state', 'succeeded', '--json']);
      expect((JSON.parse(json.stdout) as { jobs: Array<{ id: string }> }).jobs.map((j) => j.id)).toEqual([jobId]);

      // One image: counted in the singular.
      const single = (await (
        await fetch(`${sut.url}/api/v1/sync`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ project: 'proj', repositories: ['app'], tags: ['v1'] }),
        })
      ).json()) as { jobId: string };
      await until(`job ${single.jobId} to succeed`, async () => {
        const state = (
          (await (
            await fetch(`${sut.url}/api/v1/jobs/${single.jobId}`, { headers: { authorization: `Bearer ${token}` } })
          ).json()) as { state: string }
        ).state;
        return state === 'succeeded' ? true : undefined;
      });
      const oneImage = await cli(['jobs', single.jobId, '--url', sut.url, '--token', token]);
      expect(oneImage.stdout).toMatch(/proj\/app:v1 -> jobs-ns\s+1 image, /);

      const none = await cli(['jobs', '--url', sut.url, '--token', token, '--state', 'failed']);
      expect(none.stdout).toBe('no jobs\n');

      const refused = await cli(['jobs', '--url', sut.url]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(
        /answered 401: .*pass the service's ApiToken with --token or SWR_HARBOR_SYNC_TOKEN/,
      );
    } finally {
      await sut.stop();
    }
  });

  test.each([
    [['jobs', '--limit', '0'], /--limit must be a whole number from 1 to 1000/],
    [['jobs', '--state', 'done'], /--state must be one of queued, running, succeeded, failed, skipped/],
    [['jobs', 'not-a-uuid'], /"not-a-uuid" is not a job id/],
    [['jobs', '--url', 'ftp://x'], /--url must be http:\/\/ or https:\/\//],
  ])('usage error %j: exit 2', async (args, message) => {
    const run = await cli(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });

  test('no service at the address: exit 1 saying so', async () => {
    const port = await freePort();
    const run = await cli(['jobs', '--url', `http://127.0.0.1:${port}`]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`cannot reach the service at http://127.0.0.1:${port} (ECONNREFUSED); is it running?`);
  });
});

test('--help of every command exists, and the top level documents the exit codes', async () => {
  const top = await runCli(['--help']);
  expect(top.code).toBe(0);
  expect(top.stdout).toMatch(
    /Exit codes: 0 done; 1 something failed .*\n2 the command was called wrongly or the configuration is invalid/,
  );
  for (const command of ['serve', 'sync', 'copy', 'copy-prefix', 'check-config', 'register-webhook', 'jobs']) {
    const help = await runCli([command, '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(new RegExp(`^Usage: swr-harbor-sync ${command}`));
  }
});
