// Owns checking deploy/kubernetes against the image and the service, with no cluster: both overlays rendered by
// `kubectl kustomize`, every object validated against the Kubernetes schemas, and the pod held to what
// docker/Dockerfile builds (user, port, volumes, command), to the configuration table (keys, secrets, values
// the parser accepts) and to the running service (the probe and scrape paths answer). Each drift is named.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import dotenv from 'dotenv';
import { parseConfig, type Config } from '../../src/config/config.js';
import { CONFIG_KEYS, DESTINATION_KEYS, SECRET_KEYS } from '../../src/config/keys.js';
import { CLI } from '../harness/cli.js';
import { instructionsOf, parseDockerfile, parseYaml, volumeArgs, type Yaml } from '../harness/dockerfile.js';
import {
  kustomize,
  preparedCopy,
  quantity,
  readYamlObjects,
  schemaProblems,
  type K8sObject,
} from '../harness/kubernetes.js';
import { unknownFieldProblems } from '../harness/kubernetes-fields.js';
import { freePort } from '../harness/ports.js';
import { until } from '../harness/until.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const K8S = 'deploy/kubernetes';
const JOB_FILE = `${K8S}/register-webhook-job.yaml`;
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

// What the image promises (docker/Dockerfile) and what compose adds (the /tmp it mounts writable).
const dockerfile = parseDockerfile(read('docker/Dockerfile'));
const last = (keyword: string) => instructionsOf(dockerfile.final, keyword).at(-1)?.args ?? '';
const WORKDIR = instructionsOf(dockerfile.final, 'WORKDIR').reduce((dir, i) => posix.resolve(dir, i.args), '/');
const [IMAGE_UID, IMAGE_GID] = last('USER').split(':').map(Number);
const EXPOSED = Number(last('EXPOSE').replace(/\/tcp$/, ''));
const VOLUMES = instructionsOf(dockerfile.final, 'VOLUME').flatMap((i) => volumeArgs(i.args));
const CMD = JSON.parse(last('CMD')) as string[];
const compose = parseYaml(read('docker/docker-compose.yml')) as { services: Record<string, Record<string, Yaml>> };
const composeService = Object.values(compose.services)[0];
const COMPOSE_TMPFS = ([] as Yaml[]).concat(composeService.tmpfs ?? []).map(String);
const IMAGE_NAME =
  typeof composeService.image === 'string' ? composeService.image.split(':')[0] : '(no image: in compose)';
/**
 * The README's measured peak RSS of a 1 GiB layer's copy with `serve`'s V8 settings (its Kubernetes section), in
 * bytes: the copy commands' own figure (Performance, scenario (d)) is lower, with settings `serve` does not use.
 */
const PEAK_RSS =
  Number(
    /copying a 1 GiB layer peaked at (\d+) MB with V8's default settings, which `serve`/.exec(read('README.md'))?.[1],
  ) * 1e6;

const SECRET_NAMES = new Set<string>(SECRET_KEYS);
const DESTINATION_KEY_NAMES = Object.keys(DESTINATION_KEYS);
/** A key of the table, or a destination's copy of one (`dr_RegionName`) when `dr` is among Destinations. */
function configKey(name: string, destinations: string[]): { key: string; secret: boolean } | undefined {
  if (name in CONFIG_KEYS) return { key: name, secret: SECRET_NAMES.has(name) };
  const prefix = destinations.find((d) => name.startsWith(`${d}_`));
  const key = prefix && name.slice(prefix.length + 1);
  return key && DESTINATION_KEY_NAMES.includes(key) ? { key, secret: SECRET_NAMES.has(key) } : undefined;
}

/** Placeholders for the secrets a user fills in, so that the parser judges the rest of the configuration. */
const FILLED_SECRETS = { HWAK: 'K8STESTACCESSKEY', HWSK: 'k8s-test-secret-key-0123456789' };

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

interface Rendered {
  name: string;
  objects: K8sObject[];
  of: (kind: string) => K8sObject[];
  one: (kind: string) => Json;
  deployment: Json;
  pod: Json;
  container: Json;
  /** The container's environment as the pod gets it: ConfigMap, then Secret (the Secret wins), then `env`. */
  env: Record<string, string>;
  config: Config;
}

const rendered: Record<'single' | 'replicas', Rendered> = {} as never;
let jobObjects: K8sObject[] = [];

function decodeSecret(secret: Json): Record<string, string> {
  const data = Object.entries((secret.data ?? {}) as Record<string, string>).map(
    ([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')] as const,
  );
  return { ...Object.fromEntries(data), ...((secret.stringData ?? {}) as Record<string, string>) };
}

function render(name: 'single' | 'replicas', dir: string): Rendered {
  const objects = kustomize(join(dir, 'overlays', name));
  const of = (kind: string) => objects.filter((o) => o.kind === kind);
  const one = (kind: string): Json => {
    const found = of(kind);
    if (found.length !== 1) throw new Error(`overlays/${name} renders ${found.length} ${kind} objects, not one`);
    return found[0];
  };
  const deployment = one('Deployment');
  const pod = deployment.spec.template.spec as Json;
  const container = (pod.containers as Json[])[0];
  const env = {
    ...(one('ConfigMap').data as Record<string, string>),
    ...decodeSecret(one('Secret')),
    ...Object.fromEntries(((container.env ?? []) as Json[]).filter((e) => 'value' in e).map((e) => [e.name, e.value])),
  };
  const config = parseConfig({ ...env, ...FILLED_SECRETS }, `overlays/${name}`);
  return { name, objects, of, one, deployment, pod, container, env, config };
}

beforeAll(() => {
  const copy = preparedCopy(join(ROOT, K8S));
  try {
    rendered.single = render('single', copy.dir);
    rendered.replicas = render('replicas', copy.dir);
  } finally {
    copy.done();
  }
  jobObjects = readYamlObjects(read(JOB_FILE), JOB_FILE);
});

const overlays = ['single', 'replicas'] as const;
const matches = (selector: Record<string, string> | undefined, labels: Record<string, string> | undefined) =>
  Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v) && Object.keys(selector ?? {}).length > 0;
/** A probe's or a policy's port (a name or a number) as the container's port number. */
const portNumber = (container: Json, port: string | number | undefined) =>
  typeof port === 'number'
    ? port
    : (((container.ports ?? []) as Json[]).find((p) => p.name === port)?.containerPort as number | undefined);

describe.each(overlays)('overlays/%s', (name) => {
  const r = () => rendered[name];

  test('every object is valid against the Kubernetes schemas', async () => {
    expect(await schemaProblems(r().objects)).toEqual([]);
  });

  test('no object has a field Kubernetes does not know', () => {
    expect(unknownFieldProblems(r().objects, ROOT)).toEqual([]);
  });

  test("the pod runs as the image's non-root USER, read-only, without capabilities, under RuntimeDefault seccomp", () => {
    const { pod, container } = r();
    const problems: string[] = [];
    const podSc = (pod.securityContext ?? {}) as Json;
    const sc = (container.securityContext ?? {}) as Json;
    const effective = (field: string): unknown => sc[field] ?? podSc[field];
    if (effective('runAsNonRoot') !== true) problems.push('runAsNonRoot is not true');
    if (effective('runAsUser') !== IMAGE_UID)
      problems.push(`runAsUser is ${String(effective('runAsUser'))}, but docker/Dockerfile's USER is ${last('USER')}`);
    if (effective('runAsGroup') !== IMAGE_GID)
      problems.push(
        `runAsGroup is ${String(effective('runAsGroup'))}, but docker/Dockerfile's USER is ${last('USER')}`,
      );
    if (podSc.fsGroup !== IMAGE_GID)
      problems.push(`fsGroup is ${podSc.fsGroup}: a fresh volume would not be writable to the image's group`);
    if (sc.readOnlyRootFilesystem !== true) problems.push('readOnlyRootFilesystem is not true');
    if (sc.allowPrivilegeEscalation !== false) problems.push('allowPrivilegeEscalation is not false');
    if (JSON.stringify(sc.capabilities?.drop) !== '["ALL"]') problems.push('capabilities.drop is not ["ALL"]');
    if (sc.capabilities?.add?.length) problems.push(`capabilities.add gives ${sc.capabilities.add}`);
    const seccomp = (sc.seccompProfile ?? podSc.seccompProfile) as Json | undefined;
    if (seccomp?.type !== 'RuntimeDefault') problems.push(`seccompProfile is ${seccomp?.type}, not RuntimeDefault`);
    if (pod.automountServiceAccountToken !== false)
      problems.push('automountServiceAccountToken is not false: the service never calls the Kubernetes API');
    if (pod.hostNetwork || pod.hostPID || pod.hostIPC) problems.push('the pod shares a host namespace');
    expect(problems).toEqual([]);
  });

  test("the image's command, port and volumes: Port, LogDir and DataDir of the configuration are what the pod mounts", () => {
    const { container, pod, config } = r();
    const problems: string[] = [];
    const repo = String(container.image).replace(/[:@].*$/, '');
    if (repo.split('/').at(-1) !== IMAGE_NAME)
      problems.push(
        `the container's image is ${container.image}, not a ${IMAGE_NAME} image (docker/docker-compose.yml)`,
      );
    if (container.command) problems.push(`command ${container.command} replaces the image's ENTRYPOINT`);
    if (container.args && JSON.stringify(container.args) !== JSON.stringify(CMD))
      problems.push(`args ${JSON.stringify(container.args)} are not the image's CMD ${JSON.stringify(CMD)}`);
    const ports = ((container.ports ?? []) as Json[]).map((p) => p.containerPort as number);
    if (ports.join() !== String(EXPOSED))
      problems.push(`containerPort ${ports.join(', ')}, but docker/Dockerfile EXPOSEs ${EXPOSED}`);
    if (config.port !== EXPOSED)
      problems.push(`the configuration's Port is ${config.port}, the image EXPOSEs ${EXPOSED}`);
    const mounts = ((container.volumeMounts ?? []) as Json[]).map((m) => m.mountPath as string);
    const volumes = new Map(((pod.volumes ?? []) as Json[]).map((v) => [v.name as string, v]));
    for (const m of (container.volumeMounts ?? []) as Json[])
      if (!volumes.has(m.name)) problems.push(`volumeMount ${m.mountPath} names volume ${m.name}, which the pod lacks`);
    for (const path of [...VOLUMES, ...COMPOSE_TMPFS])
      if (!mounts.includes(path))
        problems.push(
          `nothing is mounted at ${path} (a VOLUME or compose tmpfs): with a read-only root it cannot be written`,
        );
    const wanted = { LogDir: config.logDir, DataDir: posix.resolve(WORKDIR, config.dataDir) };
    for (const [key, path] of Object.entries(wanted))
      if (!mounts.includes(path)) problems.push(`${key} is ${path} in the image, where no volume is mounted`);
    expect(problems).toEqual([]);
  });

  test('liveness asks /healthz, readiness /readyz, Prometheus scrapes /metrics, all on the container port', () => {
    const { container, deployment, config } = r();
    const problems: string[] = [];
    for (const [probe, path] of [
      ['livenessProbe', '/healthz'],
      ['readinessProbe', '/readyz'],
    ] as const) {
      const get = container[probe]?.httpGet as Json | undefined;
      if (!get) problems.push(`${probe} is not an httpGet`);
      else {
        if (get.path !== path) problems.push(`${probe} asks ${get.path}, not ${path}`);
        if (portNumber(container, get.port) !== config.port)
          problems.push(`${probe} asks port ${get.port}, not the service's Port ${config.port}`);
        if ((container[probe].timeoutSeconds ?? 1) < 4)
          problems.push(`${probe}'s timeoutSeconds is below 4: /readyz may wait 3 s for a registry's ping`);
      }
    }
    const annotations = (deployment.spec.template.metadata.annotations ?? {}) as Record<string, string>;
    if (annotations['prometheus.io/scrape'] !== 'true') problems.push('the pod has no prometheus.io/scrape: "true"');
    if (Number(annotations['prometheus.io/port']) !== config.port)
      problems.push(`prometheus.io/port is ${annotations['prometheus.io/port']}, not Port ${config.port}`);
    if (annotations['prometheus.io/path'] !== '/metrics')
      problems.push(`prometheus.io/path is ${annotations['prometheus.io/path']}, not /metrics`);
    expect(problems).toEqual([]);
  });

  test('the ConfigMap and the Secret hold keys of the configuration table, and no secret is in the ConfigMap', () => {
    const { one, container, config } = r();
    const problems: string[] = [];
    const names = config.destinations.map((d) => d.name).filter((n) => n !== 'default');
    const configMap = one('ConfigMap').data as Record<string, string>;
    for (const [key, value] of Object.entries(configMap)) {
      const known = configKey(key, names);
      if (!known) problems.push(`ConfigMap key ${key} is not a key of src/config/keys.ts`);
      else if (known.secret) problems.push(`ConfigMap key ${key} is a secret (secret: true): it belongs in the Secret`);
      if (key === 'RedisURL' && /^rediss?:\/\/[^/@]*:[^/@]+@/.test(value))
        problems.push('the ConfigMap RedisURL carries a password: put that RedisURL in the Secret');
    }
    for (const key of Object.keys(decodeSecret(one('Secret'))))
      if (!configKey(key, names)) problems.push(`Secret key ${key} is not a key of src/config/keys.ts`);
    for (const e of (container.env ?? []) as Json[]) {
      const known = configKey(e.name, names);
      if (!known) problems.push(`env ${e.name} is not a key of src/config/keys.ts`);
      else if (known.secret && 'value' in e) problems.push(`env ${e.name} is a secret written in the manifest`);
    }
    const refs = ((container.envFrom ?? []) as Json[]).map((f) => f.configMapRef?.name ?? f.secretRef?.name);
    const wantedRefs = [one('ConfigMap').metadata.name, one('Secret').metadata.name];
    if (JSON.stringify(refs) !== JSON.stringify(wantedRefs))
      problems.push(`envFrom is ${refs.join(', ')}, not the ConfigMap then the Secret (${wantedRefs.join(', ')})`);
    const example = dotenv.parse(read(`${K8S}/base/secret.env.example`));
    for (const key of SECRET_KEYS)
      if (!(key in example)) problems.push(`secret key ${key} is missing from ${K8S}/base/secret.env.example`);
    expect(problems).toEqual([]);
  });

  test('terminationGracePeriodSeconds is above ShutdownGraceSeconds', () => {
    const { pod, config } = r();
    const grace = (pod.terminationGracePeriodSeconds as number | undefined) ?? 30;
    const shutdown = config.shutdownGraceMs / 1000;
    expect(
      grace > shutdown ? [] : [`terminationGracePeriodSeconds ${grace} is not above ShutdownGraceSeconds ${shutdown}`],
    ).toEqual([]);
  });

  test("resources are requested and limited, memory above the README's measured peak RSS", () => {
    const { container } = r();
    const problems: string[] = [];
    if (!(PEAK_RSS > 0))
      problems.push("the README's Kubernetes section no longer gives serve's peak RSS for a 1 GiB layer");
    const res = (container.resources ?? {}) as Json;
    for (const kind of ['requests', 'limits'])
      for (const resource of ['cpu', 'memory'])
        if (res[kind]?.[resource] === undefined) problems.push(`resources.${kind}.${resource} is not set`);
    const request = quantity(res.requests?.memory ?? 0);
    const limit = quantity(res.limits?.memory ?? 0);
    if (request < PEAK_RSS)
      problems.push(`memory request ${res.requests?.memory} is below the measured peak RSS (${PEAK_RSS / 1e6} MB)`);
    if (limit < 2 * PEAK_RSS)
      problems.push(`memory limit ${res.limits?.memory} leaves no room for two copies at the measured peak RSS`);
    expect(problems).toEqual([]);
  });

  test("the Service, PodDisruptionBudget and NetworkPolicy select the pods, and the policy lets Harbor's senders and Prometheus in", () => {
    const { one, deployment, container, config } = r();
    const problems: string[] = [];
    const labels = deployment.spec.template.metadata.labels as Record<string, string>;
    if (!matches(deployment.spec.selector.matchLabels, labels))
      problems.push("the Deployment's selector misses its pods");
    const service = one('Service');
    if (!matches(service.spec.selector, labels)) problems.push("the Service's selector misses the pods");
    for (const p of service.spec.ports as Json[])
      if (portNumber(container, p.targetPort) !== config.port)
        problems.push(`Service port ${p.port} targets ${p.targetPort}, not the service's Port ${config.port}`);
    if (!matches(one('PodDisruptionBudget').spec.selector.matchLabels, labels))
      problems.push("the PodDisruptionBudget's selector misses the pods");
    const policy = one('NetworkPolicy');
    if (!matches(policy.spec.podSelector.matchLabels, labels))
      problems.push("the NetworkPolicy's podSelector misses the pods");
    const ingress = (policy.spec.ingress ?? []) as Json[];
    const from = ingress.flatMap((rule) => (rule.from ?? []) as Json[]);
    for (const component of ['jobservice', 'registry'])
      if (
        !from.some(
          (f) => f.podSelector?.matchLabels?.app === 'harbor' && f.podSelector.matchLabels.component === component,
        )
      )
        problems.push(`the NetworkPolicy lets no harbor-helm ${component} pod (app=harbor, component=${component}) in`);
    if (!from.some((f) => /prometheus/.test(JSON.stringify(f.podSelector ?? {}))))
      problems.push('the NetworkPolicy lets no Prometheus pod in');
    for (const rule of ingress)
      for (const p of (rule.ports ?? []) as Json[])
        if (portNumber(container, p.port) !== config.port)
          problems.push(`the NetworkPolicy opens port ${p.port}, not the service's Port ${config.port}`);
    const account = one('ServiceAccount');
    if (deployment.spec.template.spec.serviceAccountName !== account.metadata.name)
      problems.push(
        `the pod runs as ServiceAccount ${deployment.spec.template.spec.serviceAccountName}, not ${account.metadata.name}`,
      );
    expect(problems).toEqual([]);
  });
});

test("base/secret.env, the Secret's filled-in values, stays out of git", () => {
  const ignored = spawnSync('git', ['check-ignore', '-q', `${K8S}/base/secret.env`], { cwd: ROOT });
  expect(
    ignored.status === 0 ? [] : [`.gitignore lets ${K8S}/base/secret.env into git (exit ${ignored.status})`],
  ).toEqual([]);
});

describe('what each overlay is for', () => {
  test('single: one replica, Recreate, SQLite on the PersistentVolumeClaim it renders', () => {
    const { deployment, pod, config, of } = rendered.single;
    const problems: string[] = [];
    if (deployment.spec.replicas !== 1) problems.push(`replicas is ${deployment.spec.replicas}, not 1`);
    if (deployment.spec.strategy?.type !== 'Recreate')
      problems.push(
        `strategy is ${deployment.spec.strategy?.type}: a RollingUpdate would start a second pod on the same SQLite store`,
      );
    if (config.queue.backend !== 'sqlite') problems.push(`QueueBackend is ${config.queue.backend}, not sqlite`);
    const dataDir = posix.resolve(WORKDIR, config.dataDir);
    const mount = (rendered.single.container.volumeMounts as Json[]).find((m) => m.mountPath === dataDir);
    const volume = (pod.volumes as Json[]).find((v) => v.name === mount?.name);
    const claim = volume?.persistentVolumeClaim?.claimName as string | undefined;
    if (!claim) problems.push(`DataDir ${dataDir} is not on a PersistentVolumeClaim: the jobs would go with the pod`);
    else if (!of('PersistentVolumeClaim').some((c) => c.metadata.name === claim))
      problems.push(`the pod claims ${claim}, which the overlay does not render`);
    if (volume && Object.keys(volume).filter((k) => k !== 'name').length !== 1)
      problems.push(`volume ${volume.name} has two sources: ${Object.keys(volume).join(', ')}`);
    expect(problems).toEqual([]);
  });

  test("replicas: three replicas on Redis, the configuration's Replicas equal to the Deployment's", () => {
    const { deployment, config } = rendered.replicas;
    const problems: string[] = [];
    if (deployment.spec.replicas !== 3) problems.push(`replicas is ${deployment.spec.replicas}, not 3`);
    if (config.queue.backend !== 'redis')
      problems.push(`QueueBackend is ${config.queue.backend}: replicas on SQLite would each keep their own jobs`);
    if (config.queue.replicas !== deployment.spec.replicas)
      problems.push(
        `Replicas=${config.queue.replicas} but the Deployment runs ${deployment.spec.replicas}: pacing without Redis would be off`,
      );
    if (deployment.spec.strategy?.type === 'Recreate')
      problems.push('strategy Recreate stops every replica at each update');
    expect(problems).toEqual([]);
  });
});

describe(`${JOB_FILE}: register-webhook as a one-off Job`, () => {
  const job = () => jobObjects[0] as Json;
  const jobContainer = () => job().spec.template.spec.containers[0] as Json;

  test('is one valid Job', async () => {
    expect(jobObjects.map((o) => o.kind)).toEqual(['Job']);
    expect(await schemaProblems(jobObjects)).toEqual([]);
    expect(unknownFieldProblems(jobObjects, ROOT)).toEqual([]);
  });

  test('runs a command the CLI has, towards the Service as Harbor sees it, with the configuration of the overlays', () => {
    const problems: string[] = [];
    const c = jobContainer();
    const args = c.args as string[];
    const help = spawnSync(process.execPath, [CLI, args[0], '--help'], { encoding: 'utf8' });
    if (help.status !== 0) problems.push(`the CLI has no command ${args[0]} (${help.stderr.trim()})`);
    for (const flag of args.filter((a) => a.startsWith('--')))
      if (!help.stdout.includes(flag)) problems.push(`${args[0]} has no flag ${flag}`);
    for (const name of overlays) {
      const { one, container } = rendered[name];
      const service = one('Service');
      const wanted = `http://${service.metadata.name}.${service.metadata.namespace}.svc:${service.spec.ports[0].port}`;
      const url = args[args.indexOf('--url') + 1];
      if (url !== wanted) problems.push(`--url is ${url}, but overlays/${name}'s Service is ${wanted}`);
      if (c.image !== container.image)
        problems.push(
          `the Job runs ${c.image}, overlays/${name}'s Deployment ${container.image}: name one image in both`,
        );
      if (JSON.stringify(c.envFrom) !== JSON.stringify(container.envFrom))
        problems.push(`envFrom differs from overlays/${name}'s Deployment`);
      const labels = job().spec.template.metadata.labels as Record<string, string>;
      if (matches(service.spec.selector, labels))
        problems.push("the Service selects the Job's pod: webhooks would go to it");
      if (matches(one('PodDisruptionBudget').spec.selector.matchLabels, labels))
        problems.push("the PodDisruptionBudget counts the Job's pod");
    }
    if (
      String(c.image)
        .replace(/[:@].*$/, '')
        .split('/')
        .at(-1) !== IMAGE_NAME
    )
      problems.push(`the Job's image is ${c.image}, not a ${IMAGE_NAME} image`);
    const names = rendered.single.config.destinations.map((d) => d.name);
    for (const e of (c.env ?? []) as Json[]) {
      const known = configKey(e.name, names);
      if (!known) problems.push(`env ${e.name} is not a key of src/config/keys.ts`);
      else if (known.secret && 'value' in e) problems.push(`env ${e.name} is a secret written in the manifest`);
    }
    const sc = (c.securityContext ?? {}) as Json;
    if (sc.readOnlyRootFilesystem !== true || sc.allowPrivilegeEscalation !== false)
      problems.push('the Job runs with a writable root or privilege escalation');
    expect(problems).toEqual([]);
  });
});

describe('the running service answers where the pod spec looks', () => {
  let child: ChildProcess | undefined;
  let dir: string;
  let output = '';
  afterAll(async () => {
    child?.kill('SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test("overlays/single's environment starts `serve`; its probe and scrape paths answer on its port", async () => {
    const { env, container, deployment } = rendered.single;
    dir = await mkdtemp(join(tmpdir(), 'k8s-serve-'));
    const port = await freePort();
    // The pod's own values, but this machine's directories and a free port; nothing to reach outside.
    const overrides = {
      ...FILLED_SECRETS,
      LogDir: join(dir, 'logs'),
      DataDir: join(dir, 'data'),
      Port: String(port),
      ListenAddress: '127.0.0.1',
      HarborAddr: '127.0.0.1:9',
      SWRRegistry: '127.0.0.1:9',
      SWRApiEndpoint: 'http://127.0.0.1:9',
      IAMEndpoint: 'http://127.0.0.1:9',
      ReconcileInterval: '0',
    };
    child = spawn(process.execPath, [CLI, ...(container.args as string[])], {
      cwd: dir,
      env: { PATH: process.env.PATH, ...env, ...overrides },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const get = (path: string) =>
      fetch(`http://127.0.0.1:${port}${path}`).then(
        async (res) => ({ status: res.status, body: await res.text() }),
        () => undefined,
      );
    await until(`serve to listen (output so far: ${output})`, () => get('/healthz'), 20_000);
    const live = await get(container.livenessProbe.httpGet.path as string);
    const ready = await get(container.readinessProbe.httpGet.path as string);
    const metrics = await get(deployment.spec.template.metadata.annotations['prometheus.io/path'] as string);
    expect({
      liveness: live?.status,
      // 503 is a valid answer here (no Harbor); a 404 would mean the probe asks a path the service lacks.
      readinessAnswers: ready?.status === 200 || (ready?.status === 503 && ready.body.includes('"checks"')),
      metrics: metrics?.status,
      metricsText: /^swr_harbor_sync_/m.test(metrics?.body ?? ''),
    }).toEqual({ liveness: 200, readinessAnswers: true, metrics: 200, metricsText: true });
  });
});
