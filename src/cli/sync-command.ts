// `sync`: one project (or some of its repositories and tags) from Harbor into its SWR namespace, now, in this
// process and without the service; `--dry-run` says what a sync would copy, skip, convert or overwrite.
import type { Config } from '../config/config.js';
import { harborProjectProblem } from '../harbor/names.js';
import { swrNamespaceProblem } from '../swr/names.js';
import { CopyEngine, type ImageResult } from '../copy/index.js';
import { createLogs } from '../logging/logs.js';
import { Redactor } from '../logging/redact.js';
import { isValidRepository, isValidTag } from '../oci/index.js';
import { describeSpec, judge } from '../jobs/policy.js';
import type { ProjectJobSpec } from '../jobs/types.js';
import { copyEngineOptions } from '../service/clients.js';
import { buildContext, configuredCredentials } from '../service/contexts.js';
import { openWrittenRecord } from '../main/written-record.js';
import { syncProject } from '../sync/sync-project.js';
import { bandwidthFromFlag } from './bandwidth-flag.js';
import { showProgress } from './progress.js';
import { imageLine, summarise } from './summary.js';
import { loadCliConfig } from './cli-config.js';
import { UsageError } from './usage-error.js';

export interface SyncFlags {
  project: string;
  namespace?: string;
  repository?: string[];
  tag?: string[];
  dryRun?: boolean;
  overwrite?: boolean;
  json?: boolean;
  maxBandwidth?: string;
}

function checkedFlags(flags: SyncFlags, config: Config): { namespace: string } {
  const problem = harborProjectProblem(flags.project);
  if (problem) throw new UsageError(`--project "${flags.project}" is not a Harbor project name: it ${problem}`);
  const namespace = flags.namespace ?? config.namespaceMap.get(flags.project);
  if (!namespace)
    throw new UsageError(`project ${flags.project} is not in NamespaceMap: add it there, or give --namespace`);
  const nsProblem = swrNamespaceProblem(namespace);
  if (nsProblem) throw new UsageError(`namespace "${namespace}" is not a valid SWR namespace: it ${nsProblem}`);
  for (const r of flags.repository ?? [])
    if (!isValidRepository(r))
      throw new UsageError(
        `--repository "${r}" is not a repository name (give it without the project, e.g. app or team/app)`,
      );
  for (const t of flags.tag ?? []) if (!isValidTag(t)) throw new UsageError(`--tag "${t}" is not a valid tag`);
  return { namespace };
}

export async function syncCommand(flags: SyncFlags): Promise<number> {
  const config = loadCliConfig();
  const { namespace } = checkedFlags(flags, config);
  const bandwidth = bandwidthFromFlag(flags.maxBandwidth, config.engine.maxBandwidth);
  const redactor = new Redactor();
  const credentials = configuredCredentials(config);
  redactor.add(config.hw.sk, config.hw.password, config.harbor.password, config.swr.password, ...credentials.secrets);
  redactor.add(...config.proxy.secrets);
  // The project logs are the service's: a one-off sync leaves the same trail in <project>-running.log.
  const logs = createLogs(config.logDir, redactor, {
    console: false,
    format: config.logFormat,
    rotation: config.logRotation,
  });
  const engine = new CopyEngine(copyEngineOptions(config), undefined, { bandwidth });
  // The record of written tags is the service's: what this command writes is deleted later like the rest.
  const record = await openWrittenRecord(config, (message) => logs.service.warn(message));
  const ctx = buildContext(config, engine, logs, credentials, flags.overwrite ?? config.imageOverwrite, {
    written: record.written,
  });
  const terminal = process.stderr.isTTY && !flags.json;
  const stopProgress = flags.json ? () => undefined : showProgress(engine.events);
  if (!flags.json) {
    for (const kind of ['image-done', 'image-skipped', 'image-failed'] as const) {
      engine.events.on(kind, (r: ImageResult) =>
        process.stdout.write(`${terminal ? '\r\x1b[2K' : ''}${imageLine(r)}\n`),
      );
    }
  }
  const started = Date.now();
  const spec: ProjectJobSpec = {
    kind: 'project',
    project: flags.project,
    namespace,
    repositories: flags.repository,
    tags: flags.tag,
    overwrite: flags.overwrite,
    dryRun: flags.dryRun,
  };
  // running.log tells of a command-line sync as of a job: when it started, and how it ended.
  logs.service.info(`started from the command line: ${describeSpec(spec)}`);
  try {
    const results = await syncProject(ctx, spec);
    stopProgress();
    const verdict = judge({ results });
    if (verdict.state === 'failed') logs.service.error(`failed: ${verdict.reason}`);
    else logs.service.info(`succeeded: ${results.length} image(s)`);
    const seconds = (Date.now() - started) / 1000;
    if (flags.json)
      process.stdout.write(
        `${JSON.stringify({ project: flags.project, namespace, dryRun: flags.dryRun === true, results, seconds }, null, 2)}\n`,
      );
    else if (results.length === 0) process.stdout.write(`nothing to sync: no tag of ${flags.project} matches\n`);
    else
      process.stdout.write(
        `${flags.dryRun ? 'dry run, nothing written: ' : ''}${summarise(results, seconds, '--overwrite (or ImageOverwrite=true)')}\n`,
      );
    return results.some((r) => r.status === 'failed') ? 1 : 0;
  } catch (error) {
    // Harbor or the destination refused the sync as a whole (credentials, an unknown project, a namespace
    // owned by another account): a failed run, not a mistake in the command line.
    stopProgress();
    logs.service.error(`failed: ${(error as Error).message}`);
    process.stderr.write(`error: ${redactor.redact((error as Error).message)}\n`);
    return 1;
  } finally {
    stopProgress();
    await ctx.close();
    await record.close();
    await logs.close();
  }
}
