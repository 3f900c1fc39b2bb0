// deploy/grafana/swr-harbor-sync.json as Grafana and Prometheus read it: an importable dashboard (one data source
// variable, no panel overlapping another), every query valid PromQL for promtool once Grafana's variables are
// filled in, the panels the issue asks for present; and the metric-name reader the other tests trust.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { dashboardQueries, metricNames, promtool, ruleExpressions } from '../harness/promql.js';

type Panel = {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { uid?: string };
  targets?: Array<{ expr?: string; datasource?: { uid?: string } }>;
};
let dashboard: {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query?: unknown }> };
};
let scratch: string | undefined;

beforeAll(async () => {
  dashboard = JSON.parse(await readFile(new URL('../../deploy/grafana/swr-harbor-sync.json', import.meta.url), 'utf8'));
});

afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('metricNames', () => {
  test.each([
    [
      'sum by (job) (increase(swr_harbor_sync_images_total{outcome="failed"}[10m])) > 0',
      ['swr_harbor_sync_images_total'],
    ],
    [
      'histogram_quantile(0.95, sum by (le, kind) (rate(swr_harbor_sync_job_duration_seconds_bucket{job=~"$job"}[$__rate_interval])))',
      ['swr_harbor_sync_job_duration_seconds_bucket'],
    ],
    ['up == 0 and on (job, instance) max_over_time(swr_harbor_sync_ready[1h]) >= 0', ['swr_harbor_sync_ready', 'up']],
    ['a_total / ignoring(x) group_left(y) b offset 5m * 1e3 unless bool_metric', ['a_total', 'b', 'bool_metric']],
    ['label_replace(rate(x_total[5m]), "dst", "$1", "src", "(.*)")', ['x_total']],
    ['max(swr_harbor_sync_jobs{state=~"running|queued"}) by (state)', ['swr_harbor_sync_jobs']],
  ])('%s reads %j', (expr, names) => {
    expect(metricNames(expr)).toEqual(names);
  });

  test('block and inline expr of a rule file, each with its alert', () => {
    const yaml = [
      'groups:',
      '  - name: g',
      '    rules:',
      '      - alert: One',
      '        expr: a_total > 0 # why',
      '        for: 5m',
      '      - alert: Two',
      '        expr: >-',
      '          b > 0',
      '          and c',
      '        labels: {}',
    ].join('\n');
    expect(ruleExpressions(yaml)).toEqual([
      { rule: 'One', expr: 'a_total > 0' },
      { rule: 'Two', expr: 'b > 0 and c' },
    ]);
  });
});

test('importable: a uid, a Prometheus data source variable every query uses, panels that do not overlap', () => {
  expect(dashboard).toMatchObject({ uid: 'swr-harbor-sync', title: 'swr-harbor-sync' });
  expect(dashboard.templating.list).toContainEqual(expect.objectContaining({ name: 'datasource', type: 'datasource' }));
  const problems: string[] = [];
  const cells = new Map<string, string>();
  for (const panel of dashboard.panels) {
    if (panel.type === 'row') continue;
    if (panel.datasource?.uid !== '${datasource}')
      problems.push(`panel "${panel.title}": data source not \${datasource}`);
    for (const target of panel.targets ?? [])
      if (target.datasource?.uid !== '${datasource}')
        problems.push(`panel "${panel.title}": a target not on \${datasource}`);
    const { x, y, w, h } = panel.gridPos;
    if (x + w > 24) problems.push(`panel "${panel.title}" is wider than the grid`);
    for (let i = x; i < x + w; i++)
      for (let j = y; j < y + h; j++) {
        const other = cells.get(`${i},${j}`);
        if (other) problems.push(`panel "${panel.title}" overlaps "${other}"`);
        cells.set(`${i},${j}`, panel.title);
      }
  }
  expect([...new Set(problems)]).toEqual([]);
});

test('the panels the issue lists read the metrics that answer them', () => {
  const uses = (title: RegExp, metric: string) => {
    const panel = dashboard.panels.find((p) => title.test(p.title));
    return { title: String(title), reads: panel?.targets?.some((t) => t.expr && metricNames(t.expr).includes(metric)) };
  };
  const expected = [
    [/^Images per project$/, 'swr_harbor_sync_project_images_total'],
    [/^Queue depth and jobs/, 'swr_harbor_sync_queue_depth'],
    [/^Job durations p50 \/ p95$/, 'swr_harbor_sync_job_duration_seconds_bucket'],
    [/^Bytes per second$/, 'swr_harbor_sync_copied_bytes_total'],
    [/^Registry requests by status$/, 'swr_harbor_sync_registry_requests_total'],
    [/^Retries by reason$/, 'swr_harbor_sync_registry_retries_total'],
    [/^429 \/ 503 from SWR$/, 'swr_harbor_sync_registry_requests_total'],
    [/^Replicas over time$/, 'swr_harbor_sync_replicas'],
    [/^Webhook outcomes$/, 'swr_harbor_sync_webhook_events_total'],
  ] as const;
  expect(expected.map(([title, metric]) => uses(title, metric))).toEqual(
    expected.map(([title]) => ({ title: String(title), reads: true })),
  );
});

test('every query is PromQL that promtool parses, with the variables filled in as Grafana would', async () => {
  const queries = dashboardQueries(dashboard);
  expect(queries.length).toBeGreaterThan(20);
  // Each query becomes a recording rule: promtool check rules parses every expression and names the bad ones.
  // A textbox's own default text goes in as typed (a backslash in it must survive PromQL's string escapes);
  // a query variable's "All" is a regex; Grafana's interval a duration.
  const values = new Map(
    dashboard.templating.list.map((v) => [v.name, v.type === 'textbox' ? String(v.query) : '.+'] as const),
  );
  const filled = (expr: string) =>
    expr
      .replaceAll('$__rate_interval', '5m')
      .replace(/\$\{?(\w+)\}?/g, (_, name: string) => values.get(name) ?? `unknown variable ${name}`);
  const rules = queries
    .map((q, i) => `      - record: dashboard:query_${i}\n        expr: ${JSON.stringify(filled(q.expr))}`)
    .join('\n');
  scratch = await mkdtemp(join(tmpdir(), 'swr-harbor-sync-dashboard-'));
  await writeFile(join(scratch, 'dashboard.rules.yml'), `groups:\n  - name: dashboard\n    rules:\n${rules}\n`);
  const run = await promtool(['check', 'rules', 'dashboard.rules.yml'], scratch);
  expect(run).toEqual({ code: 0, output: expect.stringContaining(`SUCCESS: ${queries.length} rules found`) });
});
