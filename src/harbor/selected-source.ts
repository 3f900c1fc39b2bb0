// Owns choosing the source implementation once: the first question asks Harbor which API it speaks
// (HarborAPI=auto) or takes the one configured, logs it, and every later question goes to that
// implementation. Until Harbor has answered, each question fails with the reason (retried like any
// transient failure) instead of guessing; /readyz shows the same reason.
import type { RegistryClient } from '../oci/index.js';
import type { HarborClient } from './client.js';
import { HarborError } from './errors.js';
import { describeHarbor, detectHarbor, type HarborApiSetting, type HarborInfo } from './detect.js';
import { RegistrySource } from './registry-source.js';
import type { HarborArtifact, HarborProject, HarborSource } from './source.js';
import { V1Source } from './v1-source.js';
import { V2Source } from './v2-source.js';

export interface SourceHooks {
  /** The service log: the API chosen, refused names. */
  info?: (message: string) => void;
  warn?: (message: string) => void;
  /**
   * Filled with the host of Harbor's external_url once systeminfo was read with credentials: the source
   * registry client was given this same array as its tokenRealmHosts (it is built before Harbor answers).
   */
  realmHosts?: string[];
  /**
   * The name of a filter rule that needs artifact labels (`IncludeLabels proj1:prod`): only Harbor 2.x's API
   * lists them, so any other source is refused with this rule named instead of syncing unfiltered.
   */
  labelsNeededBy?: string;
}

/** A failed detection is not asked again for this long (readiness probes, a burst of jobs). */
const RETRY_DETECTION_MS = 15_000;

export class SelectedSource implements HarborSource {
  private chosen?: { info: HarborInfo; source: HarborSource };
  private detecting?: Promise<{ info: HarborInfo; source: HarborSource }>;
  private failure?: { at: number; error: Error };

  constructor(
    readonly client: HarborClient,
    private readonly setting: HarborApiSetting,
    private readonly registry: RegistryClient,
    private readonly hooks: SourceHooks = {},
    /** What another SelectedSource of the same Harbor already learnt (a manual call's own credentials). */
    known?: HarborInfo,
  ) {
    if (known && !this.labelRefusal(known)) this.chosen = { info: known, source: this.implementation(known) };
  }

  get baseUrl(): string {
    return this.client.baseUrl;
  }

  /** What was learnt about Harbor's API, once it answered. */
  get known(): HarborInfo | undefined {
    return this.chosen?.info;
  }

  get hasCredentials(): boolean {
    return this.client.hasCredentials;
  }

  /** Which Harbor answers; asks it the first time (and again after a failure). */
  async info(): Promise<HarborInfo> {
    return (await this.select()).info;
  }

  /** The same Harbor, asked with other credentials, keeping what was learnt about its API. */
  withCredentials(username: string | undefined, password: string | undefined): SelectedSource {
    return new SelectedSource(
      this.client.withCredentials(username, password),
      this.setting,
      this.registry,
      { warn: this.hooks.warn, labelsNeededBy: this.hooks.labelsNeededBy },
      this.chosen?.info,
    );
  }

  close(force = false): Promise<void> {
    return this.client.close(force);
  }

  async getProject(name: string): Promise<HarborProject | undefined> {
    return (await this.select()).source.getProject(name);
  }

  async listRepositories(project: string): Promise<string[]> {
    return (await this.select()).source.listRepositories(project);
  }

  async listArtifacts(project: string, repository: string): Promise<HarborArtifact[]> {
    return (await this.select()).source.listArtifacts(project, repository);
  }

  async getArtifact(
    project: string,
    repository: string,
    digest: string,
    eventTags?: string[],
  ): Promise<HarborArtifact | undefined> {
    return (await this.select()).source.getArtifact(project, repository, digest, eventTags);
  }

  private select(): Promise<{ info: HarborInfo; source: HarborSource }> {
    if (this.chosen) return Promise.resolve(this.chosen);
    if (this.failure && Date.now() - this.failure.at < RETRY_DETECTION_MS) return Promise.reject(this.failure.error);
    this.detecting ??= detectHarbor(this.client, this.setting)
      .then((info) => {
        const refusal = this.labelRefusal(info);
        if (refusal) throw refusal;
        this.chosen = { info, source: this.implementation(info) };
        this.failure = undefined;
        this.hooks.info?.(
          `source: ${describeHarbor(info)} at ${this.client.baseUrl}${info.externalUrl ? `, external URL ${info.externalUrl}` : ''}`,
        );
        const realm = info.externalUrl ? new URL(info.externalUrl).host : undefined;
        if (realm && this.hooks.realmHosts && !this.hooks.realmHosts.includes(realm)) this.hooks.realmHosts.push(realm);
        return this.chosen;
      })
      .catch((error: Error) => {
        this.failure = { at: Date.now(), error };
        throw error;
      })
      .finally(() => (this.detecting = undefined));
    return this.detecting;
  }

  private labelRefusal(info: HarborInfo): HarborError | undefined {
    if (!this.hooks.labelsNeededBy || info.api === 'v2') return undefined;
    const refusal = new HarborError(
      `${this.hooks.labelsNeededBy} needs artifact labels, which only Harbor 2.x's API lists, and ${this.client.baseUrl} is ${describeHarbor(info)}: remove the label rules (IncludeLabels, ExcludeLabels), or sync from Harbor 2.x`,
      0,
      'NO_LABELS',
    );
    return Object.assign(refusal, { permanent: true });
  }

  private implementation(info: HarborInfo): HarborSource {
    const warn = this.hooks.warn ?? (() => undefined);
    if (info.api === 'registry') return new RegistrySource(this.registry, warn);
    return info.api === 'v1' ? new V1Source(this.client, warn) : new V2Source(this.client, info.version, warn);
  }
}
