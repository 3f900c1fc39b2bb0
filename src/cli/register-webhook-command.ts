// `register-webhook`: creates or updates, through Harbor's API, the webhook policy that sends each project's
// pushes (PUSH_ARTIFACT, pushImage on 1.9/1.10) to this service; one line per project: created, updated or
// unchanged. Where Harbor has no webhook policies (before 1.9, or a plain registry) it prints the registry
// notification endpoint to add by hand and exits 3.
import type { Config } from '../config/config.js';
import { harborProjectProblem } from '../harbor/names.js';
import { HarborError } from '../harbor/client.js';
import { describeHarbor, detectHarbor, type HarborInfo } from '../harbor/detect.js';
import { registryNotificationSnippet } from '../harbor/registry-notifications.js';
import {
  NoPolicyApiError,
  WebhookPolicyApi,
  WebhookPolicyError,
  flavourOf,
  policyDialectOf,
} from '../harbor/webhook-policy-api.js';
import {
  planPolicy,
  wantedEventTypes,
  type DesiredWebhook,
  type PolicyFlavour,
  type PolicyPlan,
} from '../harbor/webhook-policies.js';
import { Redactor } from '../logging/redact.js';
import { harborClient } from '../service/clients.js';
import { loadCliConfig } from './cli-config.js';
import { UsageError } from './usage-error.js';

export interface RegisterWebhookFlags {
  project?: string[];
  allMapped?: boolean;
  url?: string;
  authHeader?: string;
  skipCertVerify?: boolean;
  dryRun?: boolean;
}

export const NOTIFICATIONS_PATH = '/service/notifications';

/** Exit code when this Harbor (before 1.9) or registry has no webhook policies: the endpoint to add by hand was printed. */
export const EXIT_NO_WEBHOOK_API = 3;

/** An absolute http(s) URL, as Harbor will store it; only a base (no path) gets the notifications path. */
export function webhookAddress(raw: string | undefined): string {
  const example = `http://HOST:5000${NOTIFICATIONS_PATH}`;
  if (!raw) throw new UsageError(`--url is required: the address Harbor should call, e.g. ${example}`);
  let url: URL;
  try {
    if (!/^https?:\/\/[^/]/i.test(raw.trim())) throw new Error('not absolute');
    url = new URL(raw.trim());
  } catch {
    throw new UsageError(`--url must be an absolute http:// or https:// URL such as ${example}, got "${raw}"`);
  }
  if (url.username || url.password)
    throw new UsageError(
      '--url must not carry a user or password: Harbor drops them; use --auth-header (or WebhookAuthHeader) to authenticate Harbor',
    );
  // Harbor keeps only scheme://host+path of a target (its SSRF guard), so a query or fragment would be lost silently.
  if (url.search || url.hash)
    throw new UsageError(
      `--url must not have a query or fragment: Harbor keeps only scheme, host and path (got "${raw}")`,
    );
  const path = url.pathname.replace(/\/+$/, '');
  return `${url.protocol}//${url.host}${path === '' ? NOTIFICATIONS_PATH : path}`;
}

function projectsOf(flags: RegisterWebhookFlags, config: Config, warn: (line: string) => void): string[] {
  const given = flags.project ?? [];
  if (given.length === 0 && !flags.allMapped)
    throw new UsageError(
      'name the Harbor project with --project P (repeatable), or use --all-mapped for every project in NamespaceMap',
    );
  for (const project of given) {
    const problem = harborProjectProblem(project);
    if (problem) throw new UsageError(`--project "${project}" is not a Harbor project name: it ${problem}`);
    if (!config.namespaceMap.has(project))
      warn(`project "${project}" is not in NamespaceMap: the service will ignore its pushes until it is mapped`);
  }
  const all = [...given, ...(flags.allMapped ? config.namespaceMap.keys() : [])];
  return [...new Set(all)];
}

function describeTarget(desired: DesiredWebhook, flavour: PolicyFlavour): string {
  return `${wantedEventTypes(flavour, desired.deletes).join(', ')} -> ${desired.address}, ${desired.authHeader ? 'with' : 'without'} auth header${desired.skipCertVerify ? ', certificate not verified' : ''}`;
}

function line(
  plan: PolicyPlan,
  project: string,
  desired: DesiredWebhook,
  flavour: PolicyFlavour,
  dryRun: boolean,
  createdId?: number,
): string {
  const pad = (word: string) => word.padEnd(dryRun ? 13 : 10);
  switch (plan.action) {
    case 'create':
      return `${pad(dryRun ? 'would create' : 'created')}${project}: webhook policy "${plan.body.name}"${createdId === undefined ? '' : ` (id ${createdId})`}, ${describeTarget(desired, flavour)}`;
    case 'update':
      return `${pad(dryRun ? 'would update' : 'updated')}${project}: webhook policy "${plan.name}" (id ${plan.id}), changed: ${plan.changes.join(', ')}; ${describeTarget(desired, flavour)}`;
    case 'unchanged':
      return `${pad('unchanged')}${project}: webhook policy "${plan.name}" (id ${plan.id}), ${describeTarget(desired, flavour)}`;
  }
}

/** Why nothing can be registered, and the endpoint to add to the registry's config.yml instead. */
function noWebhookApi(why: string, desired: DesiredWebhook, harborV1: boolean): string {
  const where = harborV1
    ? "add this endpoint under notifications.endpoints in harbor/common/templates/registry/config.yml (keep Harbor's own endpoint there), then run ./prepare and restart Harbor (docker-compose down && docker-compose up -d)"
    : "add this endpoint under notifications.endpoints in the registry's config.yml, then restart the registry";
  const header = desired.authHeader
    ? '\nPut the value of WebhookAuthHeader (app.conf) in the Authorization list: the registry sends it verbatim.'
    : '';
  return `${why}: nothing was registered. Instead, ${where}:\n\n${registryNotificationSnippet(desired.address, desired.authHeader !== undefined)}\n${header}`;
}

export async function registerWebhookCommand(flags: RegisterWebhookFlags): Promise<number> {
  const address = webhookAddress(flags.url);
  if (flags.authHeader !== undefined && flags.authHeader.trim() === '')
    throw new UsageError('--auth-header must not be empty; leave it out to use WebhookAuthHeader');

  const config = loadCliConfig();

  // Nothing printed may carry the Harbor password or the auth header, whatever a message happens to quote.
  const redactor = new Redactor();
  redactor.add(config.harbor.password, config.webhookAuthHeader, flags.authHeader, ...config.proxy.secrets);
  const out = (text: string) => process.stdout.write(`${redactor.redact(text)}\n`);
  const warn = (text: string) => process.stderr.write(`${redactor.redact(`warning: ${text}`)}\n`);

  const projects = projectsOf(flags, config, warn);
  const authHeader = flags.authHeader ?? config.webhookAuthHeader;
  if (flags.authHeader !== undefined && flags.authHeader !== config.webhookAuthHeader) {
    warn(
      config.webhookAuthHeader
        ? '--auth-header differs from WebhookAuthHeader: the service will answer Harbor 401'
        : '--auth-header is set but WebhookAuthHeader is not: the service accepts any caller',
    );
  }
  if (!authHeader)
    warn('no auth header: anyone who can reach the service can post notifications; set WebhookAuthHeader');
  const host = new URL(address).hostname;
  if (host === 'localhost' || host.startsWith('127.') || host === '[::1]')
    warn(
      `Harbor will call ${host} on its own host (or inside its container): make sure the service listens there, or give an address Harbor can reach`,
    );
  if (flags.skipCertVerify && address.startsWith('http:')) warn('--skip-cert-verify has no effect on an http:// URL');

  const desired: DesiredWebhook = {
    address,
    authHeader,
    skipCertVerify: flags.skipCertVerify ?? false,
    deletes: config.deletes.onEvents,
  };
  const harbor = harborClient(config, { user: config.harbor.user, password: config.harbor.password });
  const failed = (why: string) => out(`${'failed'.padEnd(flags.dryRun ? 13 : 10)}${why}`);
  try {
    let info: HarborInfo;
    try {
      info = await detectHarbor(harbor);
    } catch (error) {
      if (error instanceof HarborError && error.code === 'NO_API') {
        out(
          noWebhookApi(
            `${error.message}. Without Harbor's REST API there are no webhook policies (a plain registry's notifications do the same work)`,
            desired,
            false,
          ),
        );
        return EXIT_NO_WEBHOOK_API;
      }
      // The client's messages name Harbor's address and what to check.
      failed((error as Error).message);
      return 1;
    }
    const dialect = policyDialectOf(info);
    if (!dialect) {
      out(noWebhookApi(`${describeHarbor(info)} has no webhook policies (they came with Harbor 1.9)`, desired, true));
      return EXIT_NO_WEBHOOK_API;
    }
    const policies = new WebhookPolicyApi(harbor, dialect);
    const flavour = flavourOf(dialect);
    let failures = 0;
    for (const project of projects) {
      try {
        const plan = planPolicy(await policies.list(project), desired, project, flavour);
        let createdId: number | undefined;
        if (!flags.dryRun && plan.action === 'create') createdId = await policies.create(project, plan.body);
        if (!flags.dryRun && plan.action === 'update') await policies.update(project, plan.id, plan.body);
        out(line(plan, project, desired, flavour, flags.dryRun ?? false, createdId));
        for (const other of plan.alsoDelivering) {
          warn(
            `project "${project}": webhook policy "${other.name}" (id ${other.id}) also sends pushes to ${address}; the service gets each push twice (duplicates join one job), delete it in Harbor if it is left over`,
          );
        }
      } catch (error) {
        if (error instanceof NoPolicyApiError) {
          out(
            noWebhookApi(
              `${describeHarbor(info)} answers 404 to the webhook policies of project "${project}", which exists: it is a Harbor before 1.9`,
              desired,
              true,
            ),
          );
          return EXIT_NO_WEBHOOK_API;
        }
        failures++;
        failed(
          error instanceof WebhookPolicyError ? error.message : `project "${project}": ${(error as Error).message}`,
        );
      }
    }
    return failures === 0 ? 0 : 1;
  } finally {
    await harbor.close();
  }
}
