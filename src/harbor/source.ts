// The questions a sync asks its source (which projects, repositories, tags and digests exist), answered by
// one of three implementations chosen once per service: Harbor's REST API v2.0, Harbor 1.x's API v1, or a
// plain registry's /v2/ listings. Names that come back are checked with the webhook grammar before use.
import { isDigest, isValidRepository, isValidTag } from '../oci/index.js';

export interface HarborProject {
  id: number;
  name: string;
  public: boolean;
}

/** A project as Harbor's API answers it, v1 and v2.0 alike (`metadata.public` is the string "true"/"false"). */
export interface WireProject {
  project_id: number;
  name: string;
  metadata?: { public?: string | boolean };
}

export function toProject(wire: WireProject): HarborProject {
  return { id: wire.project_id, name: wire.name, public: String(wire.metadata?.public) === 'true' };
}

export interface HarborArtifact {
  digest: string;
  /** Empty when the source does not say (Harbor 1.x). */
  mediaType: string;
  tags: string[];
  /** Child digests of an index. */
  children: string[];
  /** Names of the artifact's labels; undefined when the source cannot list them (Harbor 1.x, a plain registry). */
  labels?: string[];
}

export interface HarborSource {
  /** undefined when the source positively says there is no such project (for this caller). */
  getProject(name: string): Promise<HarborProject | undefined>;
  /** Repository names of a project, without the project prefix. */
  listRepositories(project: string): Promise<string[]>;
  /** Tagged artifacts (and, on v2.0, untagged top-level ones). */
  listArtifacts(project: string, repository: string): Promise<HarborArtifact[]>;
  /**
   * One artifact by digest with the tags it has now; undefined only when the source positively says it is
   * gone (its repository answers, the digest is not there). `eventTags` are the tags the push event named:
   * a plain registry cannot be asked which tags a digest has.
   */
  getArtifact(
    project: string,
    repository: string,
    digest: string,
    eventTags?: string[],
  ): Promise<HarborArtifact | undefined>;
}

/** Where refused names are reported (the service log). */
export type NameWarning = (message: string) => void;

/**
 * Keeps the repository names (full, `project/repo`) that a registry path may be built from; the rest are
 * refused and reported, so a name like `../x` from a hostile source never becomes a URL path.
 */
export function acceptRepositories(names: unknown[], where: string, warn: NameWarning): string[] {
  return names.filter((name): name is string => {
    if (typeof name === 'string' && isValidRepository(name)) return true;
    warn(
      `${where}: refused repository name ${JSON.stringify(String(name)).slice(0, 200)}: not a valid repository name`,
    );
    return false;
  });
}

export function acceptTag(tag: unknown, where: string, warn: NameWarning): tag is string {
  if (typeof tag === 'string' && isValidTag(tag)) return true;
  warn(`${where}: refused tag ${JSON.stringify(String(tag)).slice(0, 200)}: not a valid tag`);
  return false;
}

export function acceptDigest(digest: unknown, where: string, warn: NameWarning): digest is string {
  if (typeof digest === 'string' && isDigest(digest)) return true;
  warn(`${where}: refused digest ${JSON.stringify(String(digest)).slice(0, 200)}: not a valid digest`);
  return false;
}

/** `proj/a/b` -> `a/b` for names that lie under the project; others are not the project's. */
export function withinProject(full: string[], project: string): string[] {
  const prefix = `${project}/`;
  return full.filter((name) => name.startsWith(prefix)).map((name) => name.slice(prefix.length));
}
