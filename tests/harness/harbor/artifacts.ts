// Owns deriving Harbor "artifacts" of one repository from the backing registry (tags grouped by
// digest, plus manifests seen pushed through the front) and rendering them as Harbor's JSON.
import type { Backing, Manifest } from './backing.js';
import type { HarborState, LabelRecord } from './state.js';

const INDEX_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
];
const IMAGE_CONFIGS = ['application/vnd.oci.image.config.v1+json', 'application/vnd.docker.container.image.v1+json'];
// Harbor's "never pulled" is Go's zero time.
const ZERO_TIME = '0001-01-01T00:00:00.000Z';

export interface Platform {
  architecture?: string;
  os?: string;
  variant?: string;
}

export interface ArtifactRecord {
  digest: string;
  manifest: Manifest;
  tags: string[];
  pushTime: string;
  children: Array<{ digest: string; platform?: Platform }>;
  /** Some index in the repository lists it. */
  isChild: boolean;
  /** Has a `subject`: a signature, SBOM or attestation, which Harbor lists only under its subject. */
  isAccessory: boolean;
  size: number;
}

export function isIndex(m: Manifest): boolean {
  return INDEX_TYPES.includes(m.mediaType);
}

export async function collectArtifacts(
  backing: Backing,
  state: HarborState,
  repo: string,
): Promise<Map<string, ArtifactRecord>> {
  const records = new Map<string, ArtifactRecord>();
  const add = (m: Manifest): ArtifactRecord => {
    let rec = records.get(m.digest);
    if (!rec) {
      rec = {
        digest: m.digest,
        manifest: m,
        tags: [],
        pushTime: state.pushes.get(repo)?.get(m.digest)?.pushTime ?? state.seen(`artifact\0${repo}\0${m.digest}`),
        children: isIndex(m)
          ? ((m.json.manifests ?? []) as Array<{ digest: string; platform?: Platform }>).map((c) => ({
              digest: c.digest,
              platform: c.platform,
            }))
          : [],
        isChild: false,
        isAccessory: m.json.subject !== undefined,
        size: 0,
      };
      records.set(m.digest, rec);
    }
    return rec;
  };

  const tags = await backing.tags(repo);
  const resolved = await Promise.all(tags.map(async (tag) => ({ tag, m: await backing.manifest(repo, tag) })));
  for (const { tag, m } of resolved) if (m) add(m).tags.push(tag);

  // A manifest pushed once stays an artifact after its tag moves on or when it never had one.
  for (const digest of [...(state.pushes.get(repo)?.keys() ?? [])]) {
    if (records.has(digest)) continue;
    const m = await backing.manifest(repo, digest);
    if (m) add(m);
    else state.forgetManifest(repo, digest);
  }

  for (const rec of [...records.values()]) {
    for (const child of rec.children) {
      const m = records.get(child.digest)?.manifest ?? (await backing.manifest(repo, child.digest));
      if (m) add(m).isChild = true;
    }
  }

  for (const rec of records.values()) {
    rec.tags.sort();
    const j = rec.manifest.json;
    if (!isIndex(rec.manifest)) {
      const blobs = [j.config, ...((j.layers ?? []) as unknown[])] as Array<{ size?: number } | undefined>;
      rec.size = rec.manifest.size + blobs.reduce((sum, b) => sum + (b?.size ?? 0), 0);
    }
  }
  // An index weighs its own bytes plus its children's, as Harbor's abstractor counts it.
  for (const rec of records.values()) {
    if (isIndex(rec.manifest)) {
      rec.size = rec.manifest.size + rec.children.reduce((sum, c) => sum + (records.get(c.digest)?.size ?? 0), 0);
    }
  }
  return records;
}

/** Harbor's `q` for artifacts: `tags=*`, `tags=nil`, `tags=~x`, `tags=x`, `base=*`, comma-joined. */
export function filterArtifacts(records: Map<string, ArtifactRecord>, q: string | null): ArtifactRecord[] {
  const terms = new Map<string, string>();
  for (const part of (q ?? '').split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) terms.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const base = terms.get('base') === '*';
  const tagTerm = terms.get('tags');
  const list = [...records.values()].filter((rec) => {
    if (rec.isAccessory) return false;
    if (rec.isChild && rec.tags.length === 0 && !base) return false;
    if (tagTerm === undefined) return true;
    if (tagTerm === '*') return rec.tags.length > 0;
    if (tagTerm === 'nil') return rec.tags.length === 0;
    if (tagTerm.startsWith('~')) return rec.tags.some((t) => t.includes(tagTerm.slice(1)));
    return rec.tags.includes(tagTerm);
  });
  // Newest push first, as Harbor's list sorts by default.
  return list.sort((a, b) =>
    a.pushTime === b.pushTime ? a.digest.localeCompare(b.digest) : a.pushTime < b.pushTime ? 1 : -1,
  );
}

function artifactType(m: Manifest): string {
  if (isIndex(m)) return 'IMAGE';
  const config = m.json.config?.mediaType;
  if (config && IMAGE_CONFIGS.includes(config)) return 'IMAGE';
  if (config === 'application/vnd.cncf.helm.config.v1+json') return 'CHART';
  if (
    config === 'application/vnd.cncf.notary.signature' ||
    m.json.artifactType === 'application/vnd.dev.cosign.artifact.sig.v1+json'
  ) {
    return 'SIGNATURE';
  }
  return 'UNKNOWN';
}

export interface RenderContext {
  backing: Backing;
  state: HarborState;
  projectId: number;
  repo: string; // with the project
  records: Map<string, ArtifactRecord>;
  withTag: boolean;
  /** `with_label=true`: swagger's default is false, and then Harbor leaves `labels` null. */
  withLabel?: boolean;
}

/** Swagger's `Label`, as Harbor's label manager answers it. */
function labelJson(label: LabelRecord): object {
  return {
    color: '',
    creation_time: label.creationTime,
    description: '',
    id: label.id,
    name: label.name,
    project_id: label.projectId,
    scope: label.scope,
    update_time: label.creationTime,
  };
}

export function tagJson(ctx: Pick<RenderContext, 'state' | 'repo'>, rec: ArtifactRecord): object[] {
  const repositoryId = ctx.state.id('repository', ctx.repo);
  const artifactId = ctx.state.id('artifact', `${ctx.repo}@${rec.digest}`);
  return rec.tags.map((name) => ({
    artifact_id: artifactId,
    id: ctx.state.id('tag', `${ctx.repo}:${name}`),
    immutable: false,
    name,
    pull_time: ZERO_TIME,
    push_time: ctx.state.tagTimes.get(`${ctx.repo}:${name}`) ?? ctx.state.seen(`tag\0${ctx.repo}:${name}`),
    repository_id: repositoryId,
  }));
}

export async function artifactJson(ctx: RenderContext, rec: ArtifactRecord): Promise<object> {
  const { state, repo } = ctx;
  const m = rec.manifest;
  const id = state.id('artifact', `${repo}@${rec.digest}`);
  const repositoryId = state.id('repository', repo);
  const index = isIndex(m);
  const references = index
    ? rec.children.map((c) => ({
        annotations: null,
        child_digest: c.digest,
        child_id: state.id('artifact', `${repo}@${c.digest}`),
        parent_id: id,
        platform: c.platform
          ? {
              architecture: c.platform.architecture,
              os: c.platform.os,
              ...(c.platform.variant ? { variant: c.platform.variant } : {}),
            }
          : null,
        urls: null,
      }))
    : null;
  const type = artifactType(m);
  let extraAttrs: object | null = null;
  if (type === 'IMAGE' && !index && m.json.config?.digest) {
    const config = await ctx.backing.jsonBlob(repo, m.json.config.digest);
    if (config) {
      extraAttrs = {
        architecture: config.architecture,
        author: config.author ?? '',
        config: config.config ?? {},
        created: config.created,
        os: config.os,
      };
    }
  }
  const encodedRepo = encodeURIComponent(encodeURIComponent(repo.slice(repo.indexOf('/') + 1)));
  const project = repo.slice(0, repo.indexOf('/'));
  const links = `/api/v2.0/projects/${project}/repositories/${encodedRepo}/artifacts/${rec.digest}/additions`;
  return {
    accessories: null,
    addition_links:
      type === 'IMAGE' && !index
        ? {
            build_history: { absolute: false, href: `${links}/build_history` },
            vulnerabilities: { absolute: false, href: `${links}/vulnerabilities` },
          }
        : {},
    annotations: m.json.annotations ?? null,
    digest: rec.digest,
    extra_attrs: extraAttrs,
    icon: '',
    id,
    // ToSwagger appends to a nil slice: an artifact without labels answers null even with with_label=true.
    labels:
      ctx.withLabel && state.labelsOf(repo, rec.digest).length > 0
        ? state.labelsOf(repo, rec.digest).map(labelJson)
        : null,
    // An index has no config, so Harbor uses the index's own media type for both.
    manifest_media_type: m.mediaType,
    media_type: index ? m.mediaType : (m.json.config?.mediaType ?? m.mediaType),
    project_id: ctx.projectId,
    pull_time: ZERO_TIME,
    push_time: rec.pushTime,
    references,
    repository_id: repositoryId,
    size: rec.size,
    tags: ctx.withTag && rec.tags.length > 0 ? tagJson(ctx, rec) : null,
    type,
  };
}
