// The read-only status page at / and the data it polls at /api/v1/status, end to end: real registries, the
// Harbor stand-in, jobs made by webhooks, and the page driven in Debian's headless chromium. Covers what the
// page shows (jobs, errors, throughput), that it refreshes itself, that outside text never becomes markup,
// what a screenshot of it looks like, and the ApiToken as Bearer or Basic password.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { Page } from 'playwright-core';
import { SqliteJobStore } from '../../src/sqlite/store.js';
import type { Job } from '../../src/jobs/types.js';
import type { StatusAnswer } from '../../src/http/status/status-data.js';
import { launchChromium, requireChromium, type LaunchedBrowser } from '../harness/browser.js';
import { startFaultProxy, type FaultProxy } from '../harness/fault-proxy.js';
import { startHarbor, type HarborStandIn } from '../harness/harbor/index.js';
import { pushImage } from '../harness/images.js';
import { startRegistry, type RunningRegistry } from '../harness/registry.js';
import { startServiceUnderTest, type ServiceUnderTest } from '../harness/service.js';
import type { ServiceJson } from '../harness/service-json.js';
import { until } from '../harness/until.js';

const API_TOKEN = 'status-page-token-3f9a1c7e5b';
/** What a registry says when it refuses the manifest of proj/broken: markup that must stay text on the page. */
const EVIL = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2"><b>bold</b>';
/** What follows it: long enough that the job's error takes several lines and folds on the page. */
const LONG_REASON =
  'the manifest references a layer this registry has never seen; push the layer first, or check that the ' +
  'repository name and the digest match what was uploaded, then try again; see the registry log for details';
const SCREENSHOT_DIR = join(tmpdir(), 'swr-harbor-sync-status-page');
const SCREENSHOT = join(SCREENSHOT_DIR, 'status-page.png');
const VIEWPORT = { width: 1280, height: 900 };

let harbor: HarborStandIn;
let dst: RunningRegistry;
/** In front of the destination: refuses proj/broken's manifest with EVIL in the message. */
let proxy: FaultProxy;
/** No ApiToken, destination behind the proxy, JobRetries=0 so the refused image fails at once. */
let open: ServiceUnderTest;
/** ApiToken set. */
let secured: ServiceUnderTest;
let succeeded: Job;
let failed: Job;
let securedJob: Job;

const bearer = { authorization: `Bearer ${API_TOKEN}` };
const basic = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});

async function webhook(
  base: ServiceUnderTest,
  project: string,
  repository: string,
  digest: string,
  tag: string,
): Promise<string> {
  const payload = harbor.webhookPayload('default', { project, repository, digest, tag });
  const res = await fetch(`${base.url}/service/notifications`, {
    method: 'POST',
    headers: { 'content-type': payload.contentType },
    body: payload.body,
  });
  const body = (await res.json()) as { jobs: string[] };
  expect(res.status).toBe(200);
  expect(body.jobs).toHaveLength(1);
  return body.jobs[0];
}

async function finalJob(
  base: ServiceUnderTest,
  id: string,
  headers: Record<string, string> = {},
  timeoutMs = 30_000,
): Promise<Job> {
  let job: Job | undefined;
  return until(
    `job ${id} to finish`,
    async () => {
      const res = await fetch(`${base.url}/api/v1/jobs/${id}`, { headers });
      expect(res.status).toBe(200);
      job = (await res.json()) as Job;
      return job.state !== 'queued' && job.state !== 'running' ? job : undefined;
    },
    timeoutMs,
  ).catch((error: Error) => {
    throw /^timed out waiting/.test(error.message)
      ? new Error(`job ${id} did not finish: ${JSON.stringify(job)}`)
      : error;
  });
}

async function status(
  base: ServiceUnderTest,
  headers: Record<string, string> = {},
  query = '',
): Promise<{ status: number; json: Partial<StatusAnswer> & ServiceJson; headers: Headers }> {
  const res = await fetch(`${base.url}/api/v1/status${query}`, { headers });
  return { status: res.status, json: (await res.json()) as Partial<StatusAnswer> & ServiceJson, headers: res.headers };
}

const bytesOf = (job: Job) => job.results.reduce((sum, r) => sum + r.bytesUploaded, 0);

beforeAll(async () => {
  [harbor, dst] = await Promise.all([
    startHarbor({
      projects: [
        { name: 'proj', public: false },
        { name: 'pub', public: true },
      ],
    }),
    startRegistry(),
  ]);
  proxy = await startFaultProxy(dst.url);
  proxy.inject({
    method: 'PUT',
    path: /^\/v2\/mirror\/broken\/manifests\//,
    times: Infinity,
    fault: {
      status: 400,
      body: JSON.stringify({
        errors: [{ code: 'MANIFEST_INVALID', message: `manifest refused: ${EVIL} ${LONG_REASON}` }],
      }),
    },
  });
  const app = await pushImage(harbor.access, 'proj/app', 'v1', {
    format: 'docker',
    layers: [{ seed: 'status-app', size: 60_000 }],
  });
  const broken = await pushImage(harbor.access, 'proj/broken', 'v1', {
    format: 'docker',
    layers: [{ seed: 'status-broken', size: 20_000 }],
  });
  const web = await pushImage(harbor.access, 'pub/web', 'latest', {
    format: 'docker',
    layers: [{ seed: 'status-web', size: 10_000 }],
  });
  [open, secured] = await Promise.all([
    startServiceUnderTest(harbor.host, proxy.host, { JobRetries: '0' }),
    startServiceUnderTest(harbor.host, dst.host, { ApiToken: API_TOKEN }),
  ]);
  const [appId, brokenId, webId] = await Promise.all([
    webhook(open, 'proj', 'app', app.digest, 'v1'),
    webhook(open, 'proj', 'broken', broken.digest, 'v1'),
    webhook(secured, 'pub', 'web', web.digest, 'latest'),
  ]);
  [succeeded, failed, securedJob] = await Promise.all([
    finalJob(open, appId),
    finalJob(open, brokenId),
    finalJob(secured, webId, bearer),
  ]);
}, 120_000);

afterAll(async () => {
  await Promise.all([open?.stop(), secured?.stop()]);
  await Promise.all([proxy?.stop(), harbor?.stop(), dst?.stop()]);
});

test("the jobs the page is tested with: one succeeded with bytes uploaded, one failed with the registry's markup in its error", () => {
  expect(succeeded).toMatchObject({ state: 'succeeded', spec: { kind: 'image', repository: 'app', tags: ['v1'] } });
  expect(bytesOf(succeeded)).toBeGreaterThan(60_000);
  expect(failed).toMatchObject({ state: 'failed', attempts: 1 });
  expect(failed.error).toContain(EVIL);
  expect(failed.error!.length).toBeGreaterThan(300);
  expect(securedJob.state).toBe('succeeded');
});

test('repository names cannot carry markup: a webhook naming one is refused, so the markup test uses an error text', async () => {
  const payload = harbor.webhookPayload('default', {
    project: 'proj',
    repository: 'a<script>b',
    digest: succeeded.spec.kind === 'image' ? succeeded.spec.digest : '',
    tag: 'v1',
  });
  const res = await fetch(`${open.url}/service/notifications`, {
    method: 'POST',
    headers: { 'content-type': payload.contentType },
    body: payload.body,
  });
  expect(res.status).toBe(400);
});

describe('GET /api/v1/status', () => {
  test('counts, recent jobs with progress and without their results, the last hour in 5-minute buckets', async () => {
    const answer = await status(open);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    const data = answer.json as StatusAnswer;
    const health = (await (await fetch(`${open.url}/healthz`)).json()) as { jobs: Record<string, number> };
    expect(data.counts).toEqual(health.jobs);
    expect(data.counts).toMatchObject({ succeeded: 1, failed: 1 });

    const ok = data.jobs.find((j) => j.id === succeeded.id)!;
    const bad = data.jobs.find((j) => j.id === failed.id)!;
    expect(ok).toMatchObject({
      state: 'succeeded',
      kind: 'image',
      project: 'proj',
      spec: succeeded.spec,
      attempts: 1,
      finishedAt: succeeded.finishedAt,
    });
    expect(ok.progress).toEqual({ imagesDone: 1, imagesTotal: 1, bytesUploaded: bytesOf(succeeded) });
    expect(ok.images).toEqual({ copied: 1, skipped: 0, failed: 0 });
    expect(bad).toMatchObject({ state: 'failed', error: failed.error });
    expect(bad.images).toEqual({ copied: 0, skipped: 0, failed: 1 });
    for (const job of data.jobs) expect(job).not.toHaveProperty('results');

    const t = data.throughput;
    expect(t.bucketMs).toBe(300_000);
    expect(t.buckets).toHaveLength(12);
    t.buckets.forEach((b, i) => expect(Date.parse(b.start)).toBe(Date.parse(t.since) + i * 300_000));
    const last = Date.parse(t.buckets[11].start);
    expect(Date.parse(data.generatedAt)).toBeGreaterThanOrEqual(last);
    expect(Date.parse(data.generatedAt)).toBeLessThan(last + 300_000);
    // Failed images count their bytes too: they crossed the wire.
    expect(t.total).toEqual({ images: 1, bytes: bytesOf(succeeded) + bytesOf(failed), jobs: 2, failedImages: 1 });
    expect(t.total.bytes).toBeGreaterThan(0);
    const sum = t.buckets.reduce(
      (acc, b) => ({ images: acc.images + b.images, bytes: acc.bytes + b.bytes, jobs: acc.jobs + b.jobs }),
      { images: 0, bytes: 0, jobs: 0 },
    );
    expect(sum).toEqual({ images: 1, bytes: t.total.bytes, jobs: 2 });
  });

  test('limit: 1 to 500, default 50', async () => {
    expect((await status(open, {}, '?limit=1')).json.jobs).toHaveLength(1);
    for (const bad of ['0', '501', 'x', '1.5']) {
      const answer = await status(open, {}, `?limit=${bad}`);
      expect({ status: answer.status, code: answer.json.error?.code }).toEqual({ status: 400, code: 'BAD_REQUEST' });
    }
  });

  test('finishedSince: only jobs finished at or after the time, oldest first, through the finished_at index', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'swr-harbor-sync-store-'));
    const store = new SqliteJobStore(dir);
    try {
      const spec = (n: number) => ({ kind: 'project' as const, project: 'p', namespace: `n${n}` });
      const ids = [1, 2, 3, 4].map((n) => store.enqueue(spec(n), undefined).job.id);
      const finishAt = (id: string, iso: string) =>
        store.db.prepare('UPDATE jobs SET state = ?, finished_at = ? WHERE id = ?').run('succeeded', iso, id);
      finishAt(ids[0], '2030-01-01T10:00:00.000Z');
      finishAt(ids[1], '2030-01-01T11:30:00.000Z');
      finishAt(ids[2], '2030-01-01T11:00:00.000Z'); // exactly at `since`: included
      // ids[3] stays queued: never finished.
      expect(store.finishedSince(new Date('2030-01-01T11:00:00.000Z')).map((j) => j.id)).toEqual([ids[2], ids[1]]);
      expect(store.finishedSince(new Date('2030-01-01T12:00:00.000Z'))).toEqual([]);

      const prepared: string[] = [];
      const prepare = store.db.prepare.bind(store.db);
      store.db.prepare = (sql: string) => (prepared.push(sql), prepare(sql));
      store.finishedSince(new Date());
      store.db.prepare = prepare;
      expect(prepared).toHaveLength(1);
      const plan = (
        prepare(`EXPLAIN QUERY PLAN ${prepared[0]}`).all(new Date().toISOString()) as Array<{ detail: string }>
      )
        .map((r) => r.detail)
        .join('; ');
      expect(plan).toMatch(/USING INDEX jobs_finished/);
      expect(plan).not.toMatch(/TEMP B-TREE/);
    } finally {
      store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

test("Debian's chromium is installed (the page tests fail, never skip, without it)", () => {
  requireChromium();
});

describe('the page in headless chromium, no ApiToken', () => {
  let browser: LaunchedBrowser;
  let page: Page;
  let csp = '';
  let contentType = '';
  const pageErrors: string[] = [];

  beforeAll(async () => {
    browser = await launchChromium({ viewport: VIEWPORT });
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });
    const response = await page.goto(`${open.url}/`);
    expect(response?.status()).toBe(200);
    csp = response?.headers()['content-security-policy'] ?? '';
    contentType = response?.headers()['content-type'] ?? '';
    await page.waitForSelector(`tr[data-job-id="${failed.id}"]`, { timeout: 15_000 });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  const cells = (id: string) =>
    page.$$eval(`tr[data-job-id="${id}"] td`, (tds) => tds.map((td) => td.textContent ?? ''));

  test('served as HTML under a strict CSP that allows only its own nonce-tagged script and style', () => {
    expect(contentType).toMatch(/^text\/html/);
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).toMatch(/script-src 'nonce-[A-Za-z0-9+/=]{16,}'(;|$)/);
    expect(csp).toMatch(/connect-src 'self'/);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
  });

  test('shows the succeeded job with its repository, state and progress, and the counts by state', async () => {
    const row = await cells(succeeded.id);
    // Created, Job, Kind, Source, Destination, State, Progress, Attempts, Error
    expect(row[1]).toBe(succeeded.id.slice(0, 8));
    expect(row[2]).toBe('image');
    expect(row[3]).toBe('proj/app:v1');
    expect(row[4]).toBe('mirror/app');
    expect(row[5]).toBe('succeeded');
    expect(row[6]).toMatch(/^1\/1 images, \d+\.\d+ KiB1 copied$/);
    expect(row[7]).toBe('1');
    expect(row[8]).toBe('');
    const counts = await page.$$eval('#counts .count', (cards) =>
      Object.fromEntries(cards.map((c) => [(c as HTMLElement).dataset.state, c.querySelector('.n')?.textContent])),
    );
    expect(counts).toEqual({ queued: '0', running: '0', succeeded: '1', failed: '1', skipped: '0' });
  });

  test("shows the failed job's error as text: the registry's markup is not parsed, nothing of it runs", async () => {
    const row = await cells(failed.id);
    expect(row[3]).toBe('proj/broken:v1');
    expect(row[5]).toBe('failed');
    const full = await page.$eval(`tr[data-job-id="${failed.id}"] td.error .error-full`, (e) => e.textContent);
    expect(full).toBe(failed.error);
    expect(full).toContain(EVIL);
    const dom = await page.evaluate(() => ({
      scripts: document.querySelectorAll('script').length,
      inRows: document.querySelectorAll('#jobs script, #jobs img, #jobs b').length,
      images: document.images.length,
      pwned: (window as unknown as { __pwned?: number }).__pwned ?? null,
    }));
    expect(dom).toEqual({ scripts: 1, inRows: 0, images: 0, pwned: null });
  });

  test('the throughput section shows the bytes of the last hour', async () => {
    const api = (await status(open)).json as StatusAnswer;
    const total = await page.$eval('#throughput-total', (p) => ({
      bytes: Number((p as HTMLElement).dataset.bytes),
      images: Number((p as HTMLElement).dataset.images),
      text: p.textContent ?? '',
    }));
    expect(total.bytes).toBeGreaterThan(0);
    expect(total.bytes).toBe(api.throughput.total.bytes);
    expect(total.images).toBe(1);
    expect(total.text).toMatch(
      /^1 image\(s\) copied, \d+\.\d+ KiB uploaded by 2 finished job\(s\), 1 image\(s\) failed since \d\d:\d\d$/,
    );
    const bars = await page.$$eval('#chart rect', (rects) =>
      rects.map((r) => ({ cls: r.getAttribute('class'), height: Number(r.getAttribute('height')) })),
    );
    expect(bars).toHaveLength(12);
    const filled = bars.filter((b) => b.cls === 'bar');
    expect(filled.length).toBeGreaterThanOrEqual(1);
    expect(Math.max(...filled.map((b) => b.height))).toBeGreaterThan(100);
  });

  test('refreshes itself: a job queued after the page loaded appears without a reload', async () => {
    await page.evaluate(() => ((window as unknown as { __sameDocument: boolean }).__sameDocument = true));
    const pollsBefore = Number(await page.$eval('body', (b) => (b as HTMLElement).dataset.polls));
    const res = await fetch(`${open.url}/api/v1/sync`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ project: 'pub', dryRun: true }),
    });
    expect(res.status).toBe(202);
    const { jobId } = (await res.json()) as { jobId: string };
    await page.waitForSelector(`tr[data-job-id="${jobId}"]`, { timeout: 20_000 });
    const row = await cells(jobId);
    expect(row[3]).toBe('pub (whole project), dry run');
    expect(row[4]).toBe('public-ns');
    expect(await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument)).toBe(true);
    expect(Number(await page.$eval('body', (b) => (b as HTMLElement).dataset.polls))).toBeGreaterThan(pollsBefore);
    await finalJob(open, jobId);
  }, 40_000);

  test('a screenshot is a PNG of the viewport that is far from blank', async () => {
    // Wait for a poll after the last job settled, so the picture is the final state.
    const polls = Number(await page.$eval('body', (b) => (b as HTMLElement).dataset.polls));
    await page.waitForFunction((n) => Number(document.body.dataset.polls) > n, polls, { timeout: 15_000 });
    const shot = await page.screenshot({ type: 'png' });
    await mkdir(SCREENSHOT_DIR, { recursive: true });
    await writeFile(SCREENSHOT, shot);
    expect(shot.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(shot.subarray(12, 16).toString('latin1')).toBe('IHDR');
    expect({ width: shot.readUInt32BE(16), height: shot.readUInt32BE(20) }).toEqual(VIEWPORT);

    const blankPage = await browser.context.newPage();
    await blankPage.setContent('<html><body></body></html>');
    const blank = await blankPage.screenshot({ type: 'png' });
    await blankPage.close();
    expect({ width: blank.readUInt32BE(16), height: blank.readUInt32BE(20) }).toEqual(VIEWPORT);
    // An all-white viewport compresses to a few KB; text, badges, bars and a table do not.
    expect(shot.length).toBeGreaterThan(blank.length * 5);
    expect(shot.length).toBeGreaterThan(20_000);
    expect(pageErrors).toEqual([]);
  }, 30_000);
});

/** Screenshots of the layout tests, kept for a person to look at (ignored by git). */
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/status-page/', import.meta.url));

describe.each([
  { device: 'desktop', viewport: { width: 1280, height: 900 } },
  { device: 'phone', viewport: { width: 390, height: 844 } },
])('the layout on a $device ($viewport.width x $viewport.height)', ({ device, viewport }) => {
  let browser: LaunchedBrowser;
  let page: Page;
  // A function: the jobs exist only once the file's beforeAll has run.
  const errorCell = () => `tr[data-job-id="${failed.id}"] td.error`;

  beforeAll(async () => {
    browser = await launchChromium({ viewport });
    page = browser.context.pages()[0] ?? (await browser.context.newPage());
    expect((await page.goto(`${open.url}/`))?.status()).toBe(200);
    await page.waitForSelector(`tr[data-job-id="${failed.id}"]`, { timeout: 15_000 });
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, `${device}.png`), fullPage: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  test("the throughput chart and its bars span at least 95% of the card's inner width", async () => {
    const box = await page.evaluate(() => {
      const card = document.getElementById('throughput')!;
      const style = getComputedStyle(card);
      const rects = [...document.querySelectorAll('#chart rect')].map((r) => r.getBoundingClientRect());
      return {
        inner: card.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight),
        chart: document.getElementById('chart')!.getBoundingClientRect().width,
        bars: Math.max(...rects.map((r) => r.right)) - Math.min(...rects.map((r) => r.left)),
        count: rects.length,
      };
    });
    expect(box.count).toBe(12);
    expect(box.inner).toBeGreaterThan(viewport.width / 2);
    expect(box.chart / box.inner).toBeGreaterThanOrEqual(0.95);
    expect(box.bars / box.inner).toBeGreaterThanOrEqual(0.95);
  });

  test('nothing scrolls sideways: the page, every section and every job row fit the viewport', async () => {
    const layout = await page.evaluate(() => ({
      innerWidth: window.innerWidth,
      scrollWidth: document.scrollingElement!.scrollWidth,
      overflowing: [...document.querySelectorAll('section, #jobs tr, #jobs td')]
        .filter((e) => e.scrollWidth > e.clientWidth + 1 || e.getBoundingClientRect().right > window.innerWidth + 0.5)
        .map((e) => `${e.tagName} ${e.className} ${(e.textContent ?? '').slice(0, 40)}`),
    }));
    expect(layout.scrollWidth).toBeLessThanOrEqual(layout.innerWidth);
    expect(layout.overflowing).toEqual([]);
  });

  test('a long error folds to its start, opens whole from its row, and stays open across refreshes', async () => {
    const error = failed.error!;
    const folded = await page.$eval(errorCell(), (td) => ({
      preview: td.querySelector('summary .preview')?.textContent,
      open: td.querySelector('details')?.open,
      fullShown: td.querySelector('.error-full')?.checkVisibility(),
    }));
    expect(folded).toEqual({ preview: `${error.slice(0, 120)}\u2026`, open: false, fullShown: false });

    await page.click(`${errorCell()} summary`);
    const full = page.locator(`${errorCell()} .error-full`);
    await full.scrollIntoViewIfNeeded();
    const shown = await full.evaluate((e) => {
      const r = e.getBoundingClientRect();
      const atCentre = document.elementFromPoint(r.left + r.width / 2, r.top + Math.min(r.height / 2, 10));
      return {
        text: e.textContent,
        inside: r.left >= 0 && r.right <= window.innerWidth && r.height > 0,
        clipped: e.scrollWidth > e.clientWidth + 1 || e.scrollHeight > e.clientHeight + 1,
        visible: atCentre !== null && e.contains(atCentre),
        lines: Math.round(r.height / parseFloat(getComputedStyle(e).lineHeight)),
      };
    });
    expect(shown).toMatchObject({ text: error, inside: true, clipped: false, visible: true });
    expect(shown.lines).toBeGreaterThanOrEqual(3);
    await page.screenshot({ path: join(ARTIFACTS, `${device}-error-open.png`), fullPage: true });

    // The page redraws its rows every 5 s; what the reader opened stays open.
    const polls = Number(await page.$eval('body', (b) => (b as HTMLElement).dataset.polls));
    await page.waitForFunction((n) => Number(document.body.dataset.polls) > n, polls, { timeout: 15_000 });
    expect(await page.$eval(`${errorCell()} details`, (d) => (d as HTMLDetailsElement).open)).toBe(true);
  }, 30_000);
});

describe('with ApiToken: Basic (any user, the token as password) or Bearer', () => {
  const challenge = 'Basic realm="swr-harbor-sync", charset="UTF-8"';

  test('/ without credentials: 401 with the Basic challenge, in chromium and over plain HTTP', async () => {
    const browser = await launchChromium({ viewport: VIEWPORT });
    try {
      const page = browser.context.pages()[0] ?? (await browser.context.newPage());
      const requested: string[] = [];
      page.on('request', (r) => requested.push(new URL(r.url()).pathname));
      // Headless chromium cannot prompt, so it gives up on the navigation; the 401 it got is still seen.
      const answered = page.waitForResponse(`${secured.url}/`);
      const navigation = await page.goto(`${secured.url}/`).then(
        () => null,
        (error: Error) => error.message,
      );
      expect(navigation).toMatch(/ERR_INVALID_AUTH_CREDENTIALS/);
      const response = await answered;
      expect(response.status()).toBe(401);
      expect(response.headers()['www-authenticate']).toBe(challenge);
      // No page, so no script ever asked for the data (had one run, its requests would come before the network
      // goes idle).
      await page.waitForLoadState('networkidle');
      expect(requested.filter((p) => p.startsWith('/api/'))).toEqual([]);
    } finally {
      await browser.close();
    }
    const res = await fetch(`${secured.url}/`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(challenge);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('UNAUTHORIZED');
    expect(JSON.stringify(body)).not.toContain(API_TOKEN);
  }, 40_000);

  test('/ with any user name and the token as password: the page renders jobs and keeps polling with those credentials', async () => {
    const browser = await launchChromium({
      viewport: VIEWPORT,
      httpCredentials: { username: 'whoever', password: API_TOKEN },
    });
    try {
      const page = browser.context.pages()[0] ?? (await browser.context.newPage());
      const response = await page.goto(`${secured.url}/`);
      expect(response?.status()).toBe(200);
      await page.waitForSelector(`tr[data-job-id="${securedJob.id}"]`, { timeout: 15_000 });
      const row = await page.$$eval(`tr[data-job-id="${securedJob.id}"] td`, (tds) =>
        tds.map((td) => td.textContent ?? ''),
      );
      expect([row[3], row[5]]).toEqual(['pub/web:latest', 'succeeded']);
      // The second poll went through too: the browser resends the credentials on the page's own fetches.
      await page.waitForFunction(() => Number(document.body.dataset.polls) >= 2, undefined, { timeout: 15_000 });
      expect(await page.$eval('#problem', (p) => ({ shown: p.className, text: p.textContent }))).toEqual({
        shown: '',
        text: '',
      });
    } finally {
      await browser.close();
    }
  }, 40_000);

  test('a wrong token as password: 401, in chromium and over plain HTTP', async () => {
    const browser = await launchChromium({
      viewport: VIEWPORT,
      httpCredentials: { username: 'whoever', password: `${API_TOKEN}x` },
    });
    try {
      const page = browser.context.pages()[0] ?? (await browser.context.newPage());
      const response = await page.goto(`${secured.url}/`);
      expect(response?.status()).toBe(401);
      expect(await page.$('#jobs')).toBeNull();
    } finally {
      await browser.close();
    }
    for (const headers of [
      basic('whoever', 'wrong'),
      basic('', `${API_TOKEN}x`),
      basic(API_TOKEN, ''),
      { authorization: 'Bearer wrong' },
      { authorization: `Basic ${API_TOKEN}` },
    ]) {
      const res = await fetch(`${secured.url}/`, { headers });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe(challenge);
    }
  }, 40_000);

  test('/api/v1/status: Bearer or Basic with the token; nothing else', async () => {
    for (const headers of [bearer, basic('whoever', API_TOKEN), basic('', API_TOKEN)]) {
      const answer = await status(secured, headers);
      expect(answer.status).toBe(200);
      expect((answer.json as StatusAnswer).jobs.map((j) => j.id)).toContain(securedJob.id);
    }
    for (const headers of [
      {},
      { authorization: 'Bearer wrong' },
      basic('whoever', 'wrong'),
      { authorization: API_TOKEN },
    ]) {
      const answer = await status(secured, headers);
      expect({ status: answer.status, code: answer.json.error?.code }).toEqual({ status: 401, code: 'UNAUTHORIZED' });
      expect(answer.headers.get('www-authenticate')).toBe(challenge);
    }
  });

  test('the rest of /api/v1 still takes only the Bearer token', async () => {
    expect((await fetch(`${secured.url}/api/v1/jobs`, { headers: basic('whoever', API_TOKEN) })).status).toBe(401);
    expect((await fetch(`${secured.url}/api/v1/jobs`, { headers: bearer })).status).toBe(200);
  });
});
