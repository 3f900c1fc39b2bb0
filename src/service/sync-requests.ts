// The use cases behind a project sync asked for over the API: with the configured credentials (/api/v1/sync),
// or the old tool's manual call, which may bring its own Harbor and Huawei Cloud credentials and is checked as
// the old tool checked it (project, credentials, region, namespace) before the job is queued.
import type { Config } from '../config/config.js';
import { describeHarbor } from '../harbor/detect.js';
import { isFilterKey, isLabelKey } from '../filters/rules.js';
import type { Job, ProjectJobSpec } from '../jobs/types.js';
import type { HuaweiAccount } from '../swr/destination.js';
import { API_CALLER, OLD_CALL_CALLER, checkDestination, checkHarborProject, checkNamespace } from './checks.js';
import { accountKeyProblems } from '../swr/account-keys.js';
import { credentialsFor } from './contexts.js';
import { Refusal } from './refusal.js';
import { aimedAt, type JobTarget } from '../sync/job-keys.js';
import type { SyncService } from './sync-service.js';

/**
 * A sync with the configured credentials: the project must be there (and readable) before a job is queued. With
 * `targets` (a mapped project with several destinations), one job per target, each naming its destination.
 */
export async function requestProjectSync(
  service: SyncService,
  spec: ProjectJobSpec,
  targets?: JobTarget[],
): Promise<Job[]> {
  await checkHarborProject(service.harbor, spec.project, API_CALLER);
  const labelKey = Object.keys(spec.filters ?? {}).find((key) => isFilterKey(key) && isLabelKey(key));
  if (labelKey) {
    // Answered now rather than by a failed job: the source was asked which API it is by the check above.
    const info = await service.harbor.info();
    if (info.api !== 'v2')
      throw new Refusal(
        'invalid-request',
        `filters.${labelKey} needs artifact labels, which only Harbor 2.x's API lists; ${service.harbor.baseUrl} is ${describeHarbor(info)}: drop ${labelKey} from the request`,
      );
  }
  const jobs: Job[] = [];
  for (const target of targets ?? []) jobs.push(await service.queueProject(aimedAt(spec, target)));
  return targets ? jobs : [await service.queueProject(spec)];
}

/** The Huawei Cloud account fields a manual call may send, as sent (each absent when not). */
export interface SentHuaweiAccount {
  authMethod?: string;
  ak?: string;
  sk?: string;
  domain?: string;
  user?: string;
  password?: string;
}

export interface ManualSyncRequest {
  project: string;
  namespace: string;
  region: string;
  overwrite?: boolean;
  /** Names of the credentials the call sent (HarborUser, HWAK, ...), for the answers that ask to drop them. */
  sentCredentials: string[];
  harbor: { user?: string; password?: string };
  huawei: SentHuaweiAccount;
}

/** Checked first, before anything else about the call: with AllowHeaderCredentials=false none may be sent. */
export function refuseSentCredentials(config: Config, sent: string[]): void {
  if (!config.allowHeaderCredentials && sent.length > 0) {
    throw new Refusal(
      'header-credentials-disabled',
      `credentials in request headers are turned off (AllowHeaderCredentials=false): drop ${sent.join(', ')} and the configured credentials are used`,
    );
  }
}

/** Checks the manual call as the old tool did, then queues the project sync with the call's credentials. */
export async function requestManualSync(service: SyncService, request: ManualSyncRequest): Promise<Job> {
  const { config } = service;
  const { project, namespace, sentCredentials: sent } = request;
  refuseSentCredentials(config, sent);
  const harborUser = request.harbor.user ?? config.harbor.user;
  const harborPassword = request.harbor.user ? request.harbor.password : config.harbor.password;
  const account = huaweiAccount(config.hw, request.huawei, request.region, Boolean(config.swr.user));
  const credentials = credentialsFor(config, account, { user: harborUser, password: harborPassword });

  // As the old tool: a public project needs no Harbor credentials; a private one must accept them.
  const anonymous = service.harbor.withCredentials(undefined, undefined);
  let visible: { public: boolean } | undefined;
  try {
    visible = await checkHarborProject(anonymous, project, OLD_CALL_CALLER);
  } catch (error) {
    if (!(error instanceof Refusal) || error.reason !== 'harbor-credentials') throw error;
  } finally {
    await anonymous.close();
  }
  // Credentials that were sent are checked even for a public project: the job would use them and fail later.
  if (!visible?.public || request.harbor.user) {
    if (!harborUser)
      throw new Refusal(
        'harbor-credentials',
        `project "${project}" is private or unknown to anonymous users: send HarborUser and HarborPassword`,
      );
    const withCredentials = service.harbor.withCredentials(harborUser, harborPassword);
    try {
      await checkHarborProject(withCredentials, project, OLD_CALL_CALLER);
    } finally {
      await withCredentials.close();
    }
  }
  await checkDestination(config, credentials.registry, credentials.destination, service.pacerFor(credentials.registry));
  await checkNamespace(credentials.namespaces, namespace);

  if (service.queue.backend === 'redis' && sent.length > 0) {
    // Request credentials live in this process's memory only, and any replica may run the job. Checked
    // last, so that every other mistake in the call is reported first, as on one instance.
    throw new Refusal(
      'header-credentials-need-one-instance',
      `with QueueBackend=redis the job may run on another replica, which would not have credentials sent in headers: drop ${sent.join(', ')} to use the configured ones, or put them in app.conf`,
    );
  }
  // Hidden from every log line and job record until the job ends (SyncService.settled releases them).
  const release = service.redactor.hold([harborPassword, account.sk, account.password, ...credentials.secrets]);
  return service
    .queueProject(
      { kind: 'project', project, namespace, overwrite: request.overwrite, requestCredentials: sent.length > 0 },
      credentials,
      release,
    )
    .catch((error: unknown) => {
      release();
      throw error;
    });
}

/** The account for the call: each method's own fields when sent, else the configured values (as the old tool's optional headers). */
function huaweiAccount(
  configured: HuaweiAccount,
  sent: SentHuaweiAccount,
  region: string,
  ownRegistryLogin: boolean,
): HuaweiAccount {
  const method = sent.authMethod ?? configured.authMethod;
  const authMethod = /^AKSK$/i.test(method) ? 'AKSK' : /^Password$/i.test(method) ? 'Password' : undefined;
  if (!authMethod) throw new Refusal('invalid-request', `HWAuthMethod must be AKSK or Password, got "${method}"`);
  if (authMethod === 'AKSK') {
    const fromRequest = sent.ak !== undefined || sent.sk !== undefined;
    const ak = fromRequest ? sent.ak : configured.ak;
    const sk = fromRequest ? sent.sk : configured.sk;
    const account = { authMethod, ak, sk, region } as const;
    // With SWRUser/SWRPassword in app.conf the keys serve SWR's management API only, and may be left out.
    if (accountKeyProblems(account, ownRegistryLogin).length > 0)
      throw new Refusal('invalid-request', 'HWAK and HWSK are required with HWAuthMethod=AKSK');
    return account;
  }
  const fromRequest = sent.domain !== undefined || sent.user !== undefined || sent.password !== undefined;
  const domain = fromRequest ? sent.domain : configured.domain;
  const password = fromRequest ? sent.password : configured.password;
  const account = { authMethod, domain, user: fromRequest ? sent.user : configured.user, password, region } as const;
  if (accountKeyProblems(account, ownRegistryLogin).length > 0)
    throw new Refusal(
      'invalid-request',
      'HWDomain and HWPassword (and HWUser, unless acting as the account itself) are required with HWAuthMethod=Password',
    );
  return account;
}
