// Owns what the stand-in remembers that a registry cannot tell it: projects, stable numeric ids
// (Harbor's database ids), when manifests and tags were pushed through its /v2 front, and the
// projects' webhook policies.

export interface Project {
  id: number;
  name: string;
  public: boolean;
  creationTime: string;
}

export interface PushRecord {
  pushTime: string;
  /** PUT by digest: the registry lists no tag for it, so only this record keeps it visible. */
  byDigest: boolean;
}

/** A target of a webhook policy, stored as Harbor stores it (address already normalised). */
export interface WebhookTargetRecord {
  type: string;
  address: string;
  authHeader: string;
  skipCertVerify: boolean;
  payloadFormat: string;
}

/** A project webhook policy (Harbor's notification_policy row). */
export interface WebhookPolicyRecord {
  id: number;
  projectId: number;
  name: string;
  description: string;
  enabled: boolean;
  eventTypes: string[];
  targets: WebhookTargetRecord[];
  creator: string;
  creationTime: string;
  updateTime: string;
}

/** A label (Harbor's harbor_label row): global (`g`, project_id 0) or a project's own (`p`). */
export interface LabelRecord {
  id: number;
  name: string;
  scope: 'g' | 'p';
  projectId: number;
  creationTime: string;
}

export class HarborState {
  readonly projects: Project[] = [];
  /** The only user, who owns every project. */
  adminName = 'admin';
  private readonly ids = new Map<string, number>();
  private readonly counters = new Map<string, number>();
  private readonly firstSeen = new Map<string, string>();
  /** repository -> digest -> last manifest PUT seen through /v2. */
  readonly pushes = new Map<string, Map<string, PushRecord>>();
  /** `repo:tag` -> last time that tag was written. */
  readonly tagTimes = new Map<string, string>();
  /** Every project's webhook policies, in creation order; names are unique per project. */
  readonly webhookPolicies: WebhookPolicyRecord[] = [];
  private policyIds = 0;
  readonly labels: LabelRecord[] = [];
  /** `repo@digest` -> ids of the labels put on that artifact (Harbor's label_reference rows), in that order. */
  readonly artifactLabels = new Map<string, number[]>();

  /** A new label; undefined when its scope (global, or the project's) already has one of that name. */
  createLabel(name: string, scope: 'g' | 'p', projectId: number): LabelRecord | undefined {
    if (this.labels.some((l) => l.name === name && l.scope === scope && l.projectId === projectId)) return undefined;
    const label = { id: this.labels.length + 1, name, scope, projectId, creationTime: new Date().toISOString() };
    this.labels.push(label);
    return label;
  }

  /** A global label by name, made the first time it is asked for (Harbor's POST /labels with scope g). */
  globalLabel(name: string): LabelRecord {
    return this.labels.find((l) => l.scope === 'g' && l.name === name) ?? this.createLabel(name, 'g', 0)!;
  }

  /** The labels of an artifact, in the order they were added. */
  labelsOf(repo: string, digest: string): LabelRecord[] {
    return (this.artifactLabels.get(`${repo}@${digest}`) ?? []).map((id) => this.labels.find((l) => l.id === id)!);
  }

  addProject(name: string, isPublic: boolean): Project {
    if (this.project(name)) throw new Error(`project ${name} already exists`);
    const project = { id: this.id('project', name), name, public: isPublic, creationTime: new Date().toISOString() };
    this.projects.push(project);
    return project;
  }

  project(nameOrId: string | number): Project | undefined {
    return this.projects.find((p) => (typeof nameOrId === 'number' ? p.id === nameOrId : p.name === nameOrId));
  }

  nextPolicyId(): number {
    return ++this.policyIds;
  }

  /** Ids start at 1 per kind and never change for a key, like rows in Harbor's tables. */
  id(kind: 'project' | 'repository' | 'artifact' | 'tag', key: string): number {
    const full = `${kind}\0${key}`;
    let id = this.ids.get(full);
    if (id === undefined) {
      id = (this.counters.get(kind) ?? 0) + 1;
      this.counters.set(kind, id);
      this.ids.set(full, id);
    }
    return id;
  }

  /** For things first met in the registry rather than through the front: the time we first looked. */
  seen(key: string, fallback = new Date().toISOString()): string {
    let at = this.firstSeen.get(key);
    if (at === undefined) {
      at = fallback;
      this.firstSeen.set(key, at);
    }
    return at;
  }

  recordManifestPut(repo: string, digest: string, tag: string | undefined): void {
    const now = new Date().toISOString();
    let byRepo = this.pushes.get(repo);
    if (!byRepo) {
      byRepo = new Map();
      this.pushes.set(repo, byRepo);
    }
    const previous = byRepo.get(digest);
    byRepo.set(digest, { pushTime: now, byDigest: (previous?.byDigest ?? false) || tag === undefined });
    this.seen(`repo\0${repo}`, now);
    if (tag !== undefined) this.tagTimes.set(`${repo}:${tag}`, now);
  }

  forgetManifest(repo: string, digest: string): void {
    this.pushes.get(repo)?.delete(digest);
  }

  repositoryTimes(repo: string): { creationTime: string; updateTime: string } {
    const creationTime = this.seen(`repo\0${repo}`);
    let updateTime = creationTime;
    for (const record of this.pushes.get(repo)?.values() ?? []) {
      if (record.pushTime > updateTime) updateTime = record.pushTime;
    }
    return { creationTime, updateTime };
  }
}
