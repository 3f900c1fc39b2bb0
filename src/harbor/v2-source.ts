// Harbor's REST API v2.0 (Harbor 2.0 and later) as a source. Projects are found by name through the
// project list on 2.0 and 2.1, whose project route takes a numeric id only; from 2.2 by name directly.
import { encodeRepository, type HarborClient } from './client.js';
import { harborPages } from './paging.js';
import {
  acceptDigest,
  acceptRepositories,
  acceptTag,
  withinProject,
  type HarborArtifact,
  type HarborProject,
  type HarborSource,
  type NameWarning,
  toProject,
  type WireProject,
} from './source.js';

interface WireArtifact {
  digest: string;
  manifest_media_type?: string;
  media_type?: string;
  tags?: Array<{ name: string }> | null;
  references?: Array<{ child_digest: string }> | null;
  /** Swagger `Label` objects with `with_label=true`; null when the artifact has none (or without the flag). */
  labels?: Array<{ name?: unknown }> | null;
}

// Labels are asked for on every listing (one more query per artifact in Harbor): filter rules need them, and a
// source that answers without them would let an IncludeLabels rule pass nothing.
const WITH = 'with_tag=true&with_label=true';

const PAGE_SIZE = 100;

/** Harbor 2.0 and 2.1 have no project route by name (`X-Is-Resource-Name` arrived in 2.2). */
export function projectRouteTakesName(version: string | undefined): boolean {
  const m = /^v?(\d+)\.(\d+)/.exec(version ?? '');
  if (!m) return true; // hidden versions are 2.13 and later
  return Number(m[1]) > 2 || (Number(m[1]) === 2 && Number(m[2]) >= 2);
}

export class V2Source implements HarborSource {
  constructor(
    private readonly harbor: HarborClient,
    private readonly version: string | undefined,
    private readonly warn: NameWarning,
  ) {}

  async getProject(name: string): Promise<HarborProject | undefined> {
    if (!projectRouteTakesName(this.version)) {
      // `name` is a substring filter: only an exact match is the project.
      const listed = await harborPages<WireProject>(
        this.harbor,
        `/api/v2.0/projects?name=${encodeURIComponent(name)}&page=1&page_size=${PAGE_SIZE}`,
      );
      const found = listed.find((p) => p.name === name);
      return found ? toProject(found) : undefined;
    }
    const res = await this.harbor.call('GET', `/api/v2.0/projects/${encodeURIComponent(name)}`, {
      headers: { 'x-is-resource-name': 'true' },
      ok: [200, 404],
    });
    return res.status === 404 ? undefined : toProject(res.json as WireProject);
  }

  async listRepositories(project: string): Promise<string[]> {
    const items = await harborPages<{ name: unknown }>(
      this.harbor,
      `/api/v2.0/projects/${encodeURIComponent(project)}/repositories?page=1&page_size=${PAGE_SIZE}`,
    );
    return withinProject(
      acceptRepositories(
        items.map((r) => r.name),
        `Harbor project ${project}`,
        this.warn,
      ),
      project,
    );
  }

  async listArtifacts(project: string, repository: string): Promise<HarborArtifact[]> {
    const items = await harborPages<WireArtifact>(
      this.harbor,
      `${this.artifactsPath(project, repository)}?${WITH}&page=1&page_size=${PAGE_SIZE}`,
    );
    return items
      .map((wire) => this.toArtifact(wire, `${project}/${repository}`))
      .filter((a): a is HarborArtifact => a !== undefined);
  }

  async getArtifact(project: string, repository: string, digest: string): Promise<HarborArtifact | undefined> {
    const res = await this.harbor.call(
      'GET',
      `${this.artifactsPath(project, repository)}/${encodeURIComponent(digest)}?${WITH}`,
      { ok: [200, 404] },
    );
    if (res.status === 200) return this.toArtifact(res.json as WireArtifact, `${project}/${repository}`);
    // 404 for the artifact says "deleted" only if the repository still answers; a 404 from something else
    // than Harbor's API (a proxy, another service) must not drop a push silently.
    await this.harbor.call(
      'GET',
      `/api/v2.0/projects/${encodeURIComponent(project)}/repositories/${encodeRepository(repository)}`,
      { ok: [200] },
    );
    return undefined;
  }

  private artifactsPath(project: string, repository: string): string {
    return `/api/v2.0/projects/${encodeURIComponent(project)}/repositories/${encodeRepository(repository)}/artifacts`;
  }

  private toArtifact(wire: WireArtifact, where: string): HarborArtifact | undefined {
    if (!acceptDigest(wire?.digest, `Harbor ${where}`, this.warn)) return undefined;
    return {
      digest: wire.digest,
      mediaType: wire.manifest_media_type ?? wire.media_type ?? '',
      tags: (wire.tags ?? [])
        .map((t) => t?.name)
        .filter((t): t is string => acceptTag(t, `Harbor ${where}@${wire.digest}`, this.warn)),
      children: (wire.references ?? [])
        .map((r) => r?.child_digest)
        .filter((d): d is string => acceptDigest(d, `Harbor ${where}@${wire.digest}`, this.warn)),
      // Only compared with patterns, never put in a path or a log line unquoted: any string will do.
      labels: (Array.isArray(wire.labels) ? wire.labels : [])
        .map((l) => l?.name)
        .filter((n): n is string => typeof n === 'string'),
    };
  }
}
