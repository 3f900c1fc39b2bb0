// The start-up checks behind `check-config`: each piece the service depends on, one result per check, so
// a user sees every problem at once instead of one per restart.
import { accessSync, constants, mkdirSync } from 'node:fs';
import type { Config, DestinationConfig } from '../config/config.js';
import { describeHarbor } from '../harbor/detect.js';
import { maskRedisUrl } from '../config/redis-url.js';
import { withoutKeysWarning } from '../swr/account-keys.js';
import { configuredCredentials, destinationCredentials } from './contexts.js';
import { buildSource, destinationClient } from './clients.js';
import type { CheckResult } from './check-result.js';
import { proxyRouteChecks } from './proxy-routes.js';

export type { CheckResult } from './check-result.js';

function writable(dir: string): string | undefined {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** PING, and a write (SET with a short expiry): a read-only replica or a full Redis answers PING too. */
async function pingRedis(url: string): Promise<string> {
  const { createRedisClient, withTimeout } = await import('../redis/connection.js');
  let reason = '';
  const client = createRedisClient(url, {
    connectionName: 'swr-harbor-sync-check',
    connectTimeoutMs: 5000,
    onError: (m) => (reason = m),
  });
  try {
    // A client that cannot connect (a wrong password, no server) keeps retrying rather than failing the call:
    // what it reported meanwhile says more than the timeout does.
    await withTimeout(client.set('check-config', new Date().toISOString(), 'PX', 10_000), 6000, 'a test write').catch(
      (error: Error) => {
        throw new Error(`cannot use Redis: ${reason || error.message}`);
      },
    );
    return 'answers and takes writes';
  } finally {
    client.disconnect();
  }
}

async function attempt(what: string, check: () => Promise<string>): Promise<CheckResult> {
  try {
    return { ok: true, what, detail: await check() };
  } catch (error) {
    return { ok: false, what, detail: (error as Error).message };
  }
}

export async function preflight(config: Config): Promise<CheckResult[]> {
  const results: CheckResult[] = [
    { ok: true, what: 'configuration', detail: `read from ${config.source}; region ${config.hw.region}` },
    ...proxyRouteChecks(config),
  ];
  // On Redis nothing is kept in DataDir.
  const dirs =
    config.queue.backend === 'sqlite'
      ? [
          ['log directory', config.logDir],
          ['data directory', config.dataDir],
        ]
      : [['log directory', config.logDir]];
  for (const [what, dir] of dirs as Array<[string, string]>) {
    const problem = writable(dir);
    results.push({ ok: !problem, what: `${what} ${dir}`, detail: problem ? `not writable: ${problem}` : 'writable' });
  }

  if (config.queue.backend === 'redis')
    results.push(
      await attempt(`Redis ${maskRedisUrl(config.queue.redisUrl!)}`, () => pingRedis(config.queue.redisUrl!)),
    );

  const { harbor, source } = buildSource(config, {
    user: config.harbor.user,
    password: config.harbor.password,
    retries: 1,
    log: { info: () => undefined, warn: () => undefined },
  });
  try {
    const api = await attempt(`Harbor at ${harbor.baseUrl}`, async () => `${describeHarbor(await harbor.info())}`);
    results.push(api);
    // Without an API that answers, every project check would only repeat the same failure.
    for (const project of api.ok ? config.namespaceMap.keys() : []) {
      results.push(
        await attempt(`Harbor project ${project}`, async () => {
          const found = await harbor.getProject(project);
          if (!found) throw new Error(`Harbor at ${harbor.baseUrl} has no project "${project}": fix NamespaceMap`);
          return config.harbor.api === 'registry'
            ? 'repositories found under it in the catalog'
            : `${found.public ? 'public' : 'private'}, readable`;
        }),
      );
    }
  } finally {
    await Promise.all([harbor.close(), source.close()]);
  }

  // Each destination on its own: one that cannot be reached does not hide what the others say.
  for (const destination of config.destinations) results.push(...(await destinationChecks(config, destination)));
  return results;
}

/** One destination: its credentials, its registry, and its namespaces (the default's checks named as they always were). */
async function destinationChecks(config: Config, dest: DestinationConfig): Promise<CheckResult[]> {
  const isDefault = dest === config.destinations[0];
  const named = isDefault ? '' : ` (${dest.name})`;
  const results: CheckResult[] = [];
  let credentials;
  try {
    credentials = isDefault ? configuredCredentials(config) : destinationCredentials(dest, config.proxy);
  } catch (error) {
    results.push({ ok: false, what: `Huawei Cloud credentials${named}`, detail: (error as Error).message });
    return results;
  }
  const destination = destinationClient(config, credentials.registry, credentials.destination, { settings: dest });
  try {
    results.push(
      await attempt(
        `SWR registry ${credentials.registry}${named}`,
        async () => (await destination.ping(), 'reachable, login accepted'),
      ),
    );
  } finally {
    await destination.close();
  }
  const namespaces = new Set(
    [...config.targets.values()].flatMap((targets) =>
      targets.filter((t) => t.destination === dest.host).map((t) => t.namespace),
    ),
  );
  if (credentials.namespaces) {
    const management = credentials.namespaces;
    for (const namespace of namespaces) {
      results.push(
        await attempt(`SWR namespace ${namespace}${named}`, async () => `${await management.describe(namespace)}`),
      );
    }
  } else {
    const withoutKeys = withoutKeysWarning(dest.hw, Boolean(dest.swr.user), dest.swr.manageNamespaces);
    results.push({
      ok: true,
      what: `SWR namespaces${named}`,
      ...(withoutKeys
        ? { warning: true, detail: withoutKeys }
        : { detail: `not managed (${dest.hw.keyPrefix ?? ''}SWRManageNamespaces=false): they must exist already` }),
    });
  }
  return results;
}
