// Harbor 1.x's REST API v1 (as in Harbor 1.10's swagger) as a source: projects by a name filter (a
// substring match: only the exact name counts), repositories by project id, and tags with their digests,
// from which an "artifact" is the set of tags sharing a digest.
import type { HarborClient } from './client.js';
import { HarborError } from './errors.js';
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

interface WireTag {
  name?: unknown;
  digest?: unknown;
}

const PAGE_SIZE = 100;

/** A repository in the v1 path: its segments escaped one by one, the slashes kept (beego's `*` route). */
function repositoryPath(project: string, repository: string): string {
  return `/api/repositories/${[project, ...repository.split('/')].map(encodeURIComponent).join('/')}`;
}

export class V1Source implements HarborSource {
  constructor(
    private readonly harbor: HarborClient,
    private readonly warn: NameWarning,
  ) {}

  async getProject(name: string): Promise<HarborProject | undefined> {
    const listed = await harborPages<WireProject>(
      this.harbor,
      `/api/projects?name=${encodeURIComponent(name)}&page=1&page_size=${PAGE_SIZE}`,
    );
    const found = listed.find((p) => p.name === name);
    return found ? toProject(found) : undefined;
  }

  async listRepositories(project: string): Promise<string[]> {
    const found = await this.getProject(project);
    if (!found)
      throw new HarborError(
        `Harbor at ${this.harbor.baseUrl} lists no project "${project}" to this user: check NamespaceMap and that HarborUser is a member of it`,
        404,
        'PROJECT_NOT_FOUND',
      );
    const items = await harborPages<{ name: unknown }>(
      this.harbor,
      `/api/repositories?project_id=${found.id}&page=1&page_size=${PAGE_SIZE}`,
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
    const res = await this.harbor.call('GET', `${repositoryPath(project, repository)}/tags`, { ok: [200] });
    if (res.json !== null && !Array.isArray(res.json))
      throw new HarborError(
        `Harbor answered the tags of ${project}/${repository} with something else than a list`,
        200,
        'BAD_RESPONSE',
      );
    const where = `Harbor ${project}/${repository}`;
    const byDigest = new Map<string, HarborArtifact>();
    for (const tag of (res.json as WireTag[] | null) ?? []) {
      // Harbor 1.x lists a tag whose manifest is missing with an empty digest: nothing to copy.
      if (!acceptTag(tag?.name, where, this.warn) || !acceptDigest(tag.digest, `${where}:${tag.name}`, this.warn))
        continue;
      const artifact = byDigest.get(tag.digest) ?? { digest: tag.digest, mediaType: '', tags: [], children: [] };
      artifact.tags.push(tag.name);
      byDigest.set(tag.digest, artifact);
    }
    return [...byDigest.values()];
  }

  /** The tags listed with this digest; undefined when the tag list answers without it (the image is gone). */
  async getArtifact(project: string, repository: string, digest: string): Promise<HarborArtifact | undefined> {
    const artifacts = await this.listArtifacts(project, repository);
    // A digest no tag points at any more was deleted, or was never tagged (a multi-arch child): either way
    // Harbor 1.x has nothing to sync for it on its own.
    return artifacts.find((a) => a.digest === digest);
  }
}
