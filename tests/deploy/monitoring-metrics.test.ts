// The shipped dashboard and alerts read only metrics the service has: every metric name in the PromQL of
// deploy/grafana/swr-harbor-sync.json and deploy/prometheus/alerts.yml (Prometheus' own `up` aside) is in a real
// /metrics answer of the running service after one webhook sync, on SQLite and on Redis. The names are read by
// tests/harness/promql.ts (metricNames: variables, strings, matchers, ranges and grouping lists dropped; every
// identifier left that is not a keyword or a function call is a metric).
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { startHarbor, type HarborStandIn } from '../harness/harbor/index.js';
import { pushImage, type PushedImage } from '../harness/images.js';
import { dashboardQueries, exposedNames, metricNames, ruleExpressions } from '../harness/promql.js';
import { startRedis, type RunningRedis } from '../harness/redis.js';
import { startRegistry, type RunningRegistry } from '../harness/registry.js';
import { startServiceUnderTest, waitForJobs, type ServiceUnderTest } from '../harness/service.js';
import { postPushWebhook } from '../harness/webhook-post.js';

/** Prometheus' own series, there whatever the service exposes. */
const PROMETHEUS_OWN = new Set(['up']);

let harbor: HarborStandIn;
let redis: RunningRedis;
let image: PushedImage;
const registries: RunningRegistry[] = [];
const services: ServiceUnderTest[] = [];
/** Metric name -> where the dashboard or the alerts read it. */
const used = new Map<string, string[]>();

beforeAll(async () => {
  [harbor, redis] = await Promise.all([startHarbor({ projects: [{ name: 'proj', public: false }] }), startRedis()]);
  image = await pushImage(harbor.access, 'proj/monitoring/app', 'v1', {
    format: 'oci',
    layers: [{ seed: 'monitoring-1', size: 30_000 }],
  });
  const read = (file: string) => readFile(new URL(`../../deploy/${file}`, import.meta.url), 'utf8');
  const [dashboard, alerts] = await Promise.all([read('grafana/swr-harbor-sync.json'), read('prometheus/alerts.yml')]);
  const queries = [
    ...dashboardQueries(JSON.parse(dashboard)).map((q) => ({ where: `dashboard ${q.where}`, expr: q.expr })),
    ...ruleExpressions(alerts).map((r) => ({ where: `alert ${r.rule}`, expr: r.expr })),
  ];
  for (const { where, expr } of queries)
    for (const name of metricNames(expr)) used.set(name, [...(used.get(name) ?? []), where]);
});

afterAll(async () => {
  await Promise.all(services.map((s) => s.stop()));
  await Promise.all([harbor?.stop(), redis?.stop(), ...registries.map((r) => r.stop())]);
});

test('the files read the metrics added for them (the reader finds names at all)', () => {
  for (const name of [
    'swr_harbor_sync_ready',
    'swr_harbor_sync_replicas',
    'swr_harbor_sync_job_locks_held',
    'swr_harbor_sync_job_lock_renewals_total',
    'swr_harbor_sync_project_images_total',
    'swr_harbor_sync_job_duration_seconds_bucket',
    'up',
  ])
    expect({ name, used: used.has(name) }).toEqual({ name, used: true });
});

test.each(['sqlite', 'redis'] as const)(
  'on %s, every metric the dashboard and the alerts read is in /metrics after one sync',
  async (backend) => {
    const dst = await startRegistry();
    registries.push(dst);
    const sut = await startServiceUnderTest(
      harbor.host,
      dst.host,
      backend === 'redis'
        ? { QueueBackend: 'redis', RedisURL: redis.url, RedisKeyPrefix: 'monitoring', JobLockSeconds: '5' }
        : { QueueBackend: 'sqlite' },
    );
    services.push(sut);
    const res = await postPushWebhook(harbor, sut.url, {
      project: 'proj',
      repository: 'monitoring/app',
      digest: image.digest,
      tag: 'v1',
    });
    expect(res.status).toBe(200);
    await waitForJobs(sut.url, 'proj', (jobs) => jobs.some((j) => j.state === 'succeeded'));

    const answer = await (await fetch(`${sut.url}/metrics`)).text();
    const exposed = exposedNames(answer);
    const missing = [...used]
      .filter(([name]) => !PROMETHEUS_OWN.has(name) && !exposed.has(name))
      .map(([name, where]) => `${name} (read by ${where.join(', ')})`);
    expect(missing).toEqual([]);
    // The sync happened and the gauges the alerts lean on have values, not only declarations.
    expect(answer).toMatch(/^swr_harbor_sync_project_images_total\{project="proj",outcome="synced"\} 1$/m);
    expect(answer).toMatch(/^swr_harbor_sync_replicas 1$/m);
    expect(answer).toMatch(/^swr_harbor_sync_ready 1$/m);
  },
  60_000,
);
