// deploy/prometheus/alerts.yml as Prometheus reads it: promtool accepts the rules, promtool's unit tests
// (alerts.test.yml) pass with series that fire every alert and series that must not, every alert has both kinds
// of case, and those cases catch an alert that fires too soon.
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { promtool, ruleExpressions } from '../harness/promql.js';

const DIR = new URL('../../deploy/prometheus/', import.meta.url).pathname;
let alerts: string;
let cases: string;

beforeAll(async () => {
  [alerts, cases] = await Promise.all([
    readFile(join(DIR, 'alerts.yml'), 'utf8'),
    readFile(join(DIR, 'alerts.test.yml'), 'utf8'),
  ]);
});

const alertNames = (yaml: string) => [...yaml.matchAll(/^\s*- alert:\s*(\S+)\s*$/gm)].map((m) => m[1]);

test('promtool check rules accepts alerts.yml, and finds as many rules as the file names alerts', async () => {
  const run = await promtool(['check', 'rules', 'alerts.yml'], DIR);
  expect(run).toEqual({ code: 0, output: expect.stringContaining('SUCCESS') });
  const found = Number(/SUCCESS: (\d+) rules found/.exec(run.output)?.[1]);
  expect(alertNames(alerts).length).toBe(found);
  // Every rule's expression is read by the metric-name test (monitoring-metrics.test.ts): none left out.
  expect(ruleExpressions(alerts).map((r) => r.rule)).toEqual(alertNames(alerts));
});

test('promtool test rules: every alert fires on its series and stays quiet on the ones that must not fire it', async () => {
  const run = await promtool(['test', 'rules', 'alerts.test.yml'], DIR);
  expect(run).toEqual({ code: 0, output: expect.stringContaining('SUCCESS') });
});

test('alerts.test.yml has, for every alert, a case where it fires and one where it must not', () => {
  // Each `- alertname:` case up to the next one; `exp_alerts: []` is a case where nothing may fire.
  const blocks = cases.split(/^\s*- alertname:\s*/m).slice(1);
  const fires = new Set<string>();
  const quiet = new Set<string>();
  for (const block of blocks) {
    const name = /^(\S+)/.exec(block)![1];
    (/exp_alerts:\s*\[\]/.test(block) ? quiet : fires).add(name);
  }
  const missing = alertNames(alerts).flatMap((name) => [
    ...(fires.has(name) ? [] : [`${name}: no case where it fires`]),
    ...(quiet.has(name) ? [] : [`${name}: no case where it must not fire`]),
  ]);
  expect(missing).toEqual([]);
});

let scratch: string | undefined;
afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

test('the cases catch alerts that fire at once: without their `for:` the unit tests fail, naming the alerts', async () => {
  scratch = await mkdtemp(join(tmpdir(), 'swr-harbor-sync-alerts-'));
  await writeFile(join(scratch, 'alerts.yml'), alerts.replace(/^\s*for: .*\n/gm, ''));
  await copyFile(join(DIR, 'alerts.test.yml'), join(scratch, 'alerts.test.yml'));
  const run = await promtool(['test', 'rules', 'alerts.test.yml'], scratch);
  expect(run.code).not.toBe(0);
  // Each alert's text up to the next one: those with a `for:` must each be caught by some case.
  const withFor = alerts
    .split(/^\s*- alert:\s*/m)
    .slice(1)
    .filter((chunk) => /^\s*for: /m.test(chunk))
    .map((chunk) => /^(\S+)/.exec(chunk)![1]);
  expect(withFor.length).toBeGreaterThan(0);
  const caught = withFor.filter((name) => run.output.includes(`alertname: ${name}`));
  expect(caught).toEqual(withFor);
});
