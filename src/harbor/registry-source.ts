// A plain Distribution registry as the source (HarborAPI=registry): the first path segment of a repository
// plays the Harbor project; projects and repositories come from /v2/_catalog, tags from tags/list, and a
// pushed digest is copied under the tags its event named, since a registry cannot say which tags a digest has.
import type { RegistryClient } from '../oci/index.js';
import {
  acceptRepositories,
  acceptTag,
  withinProject,
  type HarborArtifact,
  type HarborProject,
  type HarborSource,
  type NameWarning,
} from './source.js';

export class RegistrySource implements HarborSource {
  constructor(
    private readonly registry: RegistryClient,
    private readonly warn: NameWarning,
  ) {}

  /** A project "exists" while some repository lies under it; a registry has no notion of public. */
  async getProject(name: string): Promise<HarborProject | undefined> {
    return (await this.listRepositories(name)).length > 0 ? { id: 0, name, public: false } : undefined;
  }

  async listRepositories(project: string): Promise<string[]> {
    const all = await this.registry.listRepositories();
    return withinProject(acceptRepositories(all, `registry ${this.registry.host} catalog`, this.warn), project);
  }

  async listArtifacts(project: string, repository: string): Promise<HarborArtifact[]> {
    const full = `${project}/${repository}`;
    const tags = ((await this.registry.listTags(full)) ?? []).filter((tag) =>
      acceptTag(tag, `registry ${full}`, this.warn),
    );
    const byDigest = new Map<string, HarborArtifact>();
    for (const tag of tags) {
      const head = await this.registry.headManifest(full, tag);
      if (!head) continue; // deleted between the listing and now
      const artifact = byDigest.get(head.digest) ?? {
        digest: head.digest,
        mediaType: head.mediaType,
        tags: [],
        children: [],
      };
      artifact.tags.push(tag);
      byDigest.set(head.digest, artifact);
    }
    return [...byDigest.values()];
  }

  async getArtifact(
    project: string,
    repository: string,
    digest: string,
    eventTags: string[] = [],
  ): Promise<HarborArtifact | undefined> {
    const head = await this.registry.headManifest(`${project}/${repository}`, digest);
    if (!head) return undefined;
    return {
      digest,
      mediaType: head.mediaType,
      tags: eventTags.filter((tag) => acceptTag(tag, `registry ${project}/${repository}`, this.warn)),
      children: [],
    };
  }
}
