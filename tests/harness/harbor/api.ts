// Owns Harbor's REST API v2.0 subset: projects, repositories, artifacts and (through
// webhook-policies.ts) project webhook policies, with Harbor's auth answers, double-encoded
// repository names, paging headers and error bodies.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { artifactJson, collectArtifacts, filterArtifacts, tagJson, type ArtifactRecord } from './artifacts.js';
import type { Auth, Caller, Identity } from './auth.js';
import type { Backing } from './backing.js';
import { sendError, sendJson } from './http.js';
import { pagingHeaders, parsePage, slicePage, type Page } from './paging.js';
import type { HarborState, Project } from './state.js';
import { addArtifactLabel, createLabel } from './labels.js';
import { handleWebhookPolicies } from './webhook-policies.js';

export interface ApiContext {
  state: HarborState;
  auth: Auth;
  backing: Backing;
  /** Which 2.x is played: the project route by name arrived in 2.2 (default 2.3). */
  version?: '2.0' | '2.1' | '2.2' | '2.3';
  /** An artifact deleted through the API, with the tags it had: Harbor fires DELETE_ARTIFACT for it. */
  onArtifactDeleted?: (repo: string, digest: string, tags: string[]) => void;
}

interface Call {
  req: IncomingMessage;
  res: ServerResponse;
  caller: Caller;
  identity: Identity;
  rawPath: string;
  params: URLSearchParams;
  body?: Buffer;
}

const UNAUTHORIZED = ['UNAUTHORIZED', 'unauthorized'] as const;

function notFound(res: ServerResponse, message: string): void {
  sendError(res, 404, 'NOT_FOUND', message);
}

/**
 * Harbor's RBAC answers: 401 to anonymous callers for anything private (or unknown, since it
 * cannot tell), 404 to the admin for what does not exist.
 */
function readableProject(c: Call, ctx: ApiContext, nameOrId: string | number): Project | undefined {
  const project = ctx.state.project(nameOrId);
  if (project && (c.caller === 'admin' || project.public)) return project;
  if (c.caller !== 'admin') sendError(c.res, 401, ...UNAUTHORIZED);
  else notFound(c.res, `project ${nameOrId} not found`);
  return undefined;
}

function paged(c: Call): Page | undefined {
  const p = parsePage(c.params);
  if ('error' in p) {
    sendError(c.res, 422, 'UNPROCESSABLE_ENTITY', p.error);
    return undefined;
  }
  return p;
}

function projectJson(ctx: ApiContext, p: Project, repoCount: number): object {
  return {
    creation_time: p.creationTime,
    current_user_role_id: 1,
    current_user_role_ids: [1],
    cve_allowlist: {
      creation_time: '0001-01-01T00:00:00.000Z',
      id: p.id,
      items: [],
      project_id: p.id,
      update_time: '0001-01-01T00:00:00.000Z',
    },
    deleted: false,
    // Harbor stores project metadata as strings, booleans included.
    metadata: { public: p.public ? 'true' : 'false' },
    name: p.name,
    owner_id: 1,
    owner_name: ctx.state.adminName,
    project_id: p.id,
    repo_count: repoCount,
    togglable: true,
    update_time: p.creationTime,
  };
}

async function projectRepositories(ctx: ApiContext, project: string): Promise<string[]> {
  const prefix = `${project}/`;
  return (await ctx.backing.catalog()).filter((r) => r.startsWith(prefix)).sort();
}

async function repositoryJson(ctx: ApiContext, project: Project, repo: string): Promise<object> {
  const records = await collectArtifacts(ctx.backing, ctx.state, repo);
  const times = ctx.state.repositoryTimes(repo);
  return {
    artifact_count: records.size,
    creation_time: times.creationTime,
    id: ctx.state.id('repository', repo),
    name: repo,
    project_id: project.id,
    pull_count: 0,
    update_time: times.updateTime,
  };
}

/** Harbor's `q` for repositories: `name=x` exact or `name=~x` fuzzy. */
function matchesName(q: string | null, repo: string): boolean {
  const m = /(?:^|,)name=(~?)([^,]*)/.exec(q ?? '');
  if (!m) return true;
  return m[1] ? repo.includes(m[2]) : repo === m[2];
}

async function listProjects(c: Call, ctx: ApiContext): Promise<void> {
  const p = paged(c);
  if (!p) return;
  const name = c.params.get('name');
  const pub = c.params.get('public');
  const visible = ctx.state.projects
    .filter((x) => c.caller === 'admin' || x.public)
    .filter((x) => name === null || x.name.includes(name))
    .filter((x) => pub === null || String(x.public) === pub)
    .sort((a, b) => a.name.localeCompare(b.name));
  const items = await Promise.all(
    slicePage(visible, p).map(async (x) => projectJson(ctx, x, (await projectRepositories(ctx, x.name)).length)),
  );
  sendJson(c.res, 200, items, pagingHeaders(c.rawPath, c.params, visible.length, p));
}

async function getProject(c: Call, ctx: ApiContext, nameOrId: string): Promise<void> {
  if ((ctx.version === '2.0' || ctx.version === '2.1') && !/^\d+$/.test(nameOrId)) {
    // 2.0 routes /projects/:id([0-9]+) only; 2.1's swagger takes an int64 project_id (go-swagger's 422).
    if (ctx.version === '2.0') return notFound(c.res, `path ${c.rawPath} was not found`);
    return sendError(
      c.res,
      422,
      'UNPROCESSABLE_ENTITY',
      `validation failure list:\nproject_id in path must be of type int64: "${nameOrId}"`,
    );
  }
  // X-Is-Resource-Name arrived in 2.2; before, a number is always an id.
  const honoursHeader = ctx.version !== '2.0' && ctx.version !== '2.1';
  const byName = (honoursHeader && c.req.headers['x-is-resource-name'] === 'true') || !/^\d+$/.test(nameOrId);
  const project = readableProject(c, ctx, byName ? nameOrId : Number(nameOrId));
  if (!project) return;
  sendJson(c.res, 200, projectJson(ctx, project, (await projectRepositories(ctx, project.name)).length));
}

async function listRepositories(c: Call, ctx: ApiContext, projectName: string): Promise<void> {
  const project = readableProject(c, ctx, projectName);
  if (!project) return;
  const p = paged(c);
  if (!p) return;
  const repos = (await projectRepositories(ctx, project.name)).filter((r) => matchesName(c.params.get('q'), r));
  const items = await Promise.all(slicePage(repos, p).map((r) => repositoryJson(ctx, project, r)));
  sendJson(c.res, 200, items, pagingHeaders(c.rawPath, c.params, repos.length, p));
}

/** A repository exists for Harbor once something was pushed to it. */
async function repositoryExists(ctx: ApiContext, repo: string): Promise<boolean> {
  if ((ctx.state.pushes.get(repo)?.size ?? 0) > 0) return true;
  return (await ctx.backing.catalog()).includes(repo);
}

async function withRepository(
  c: Call,
  ctx: ApiContext,
  projectName: string,
  name: string,
  then: (project: Project, repo: string, records: Map<string, ArtifactRecord>) => Promise<void>,
): Promise<void> {
  const project = readableProject(c, ctx, projectName);
  if (!project) return;
  const repo = `${project.name}/${name}`;
  if (!(await repositoryExists(ctx, repo))) {
    notFound(c.res, `repository ${repo} not found`);
    return;
  }
  await then(project, repo, await collectArtifacts(ctx.backing, ctx.state, repo));
}

function findArtifact(records: Map<string, ArtifactRecord>, ref: string): ArtifactRecord | undefined {
  if (ref.startsWith('sha256:')) return records.get(ref);
  return [...records.values()].find((r) => r.tags.includes(ref));
}

/**
 * DELETE /projects/{p}/repositories/{r}/artifacts/{reference}: the artifact and every tag on it go (200, no
 * body), then DELETE_ARTIFACT fires. Only the admin may delete here (anonymous 401, as Harbor's RBAC answers).
 */
async function deleteArtifact(c: Call, ctx: ApiContext, projectName: string, name: string, ref: string) {
  if (c.caller !== 'admin') return sendError(c.res, 401, ...UNAUTHORIZED);
  return withRepository(c, ctx, projectName, name, async (_project, repo, records) => {
    const found = findArtifact(records, ref);
    if (!found) return notFound(c.res, `artifact ${repo}${ref.startsWith('sha256:') ? '@' : ':'}${ref} not found`);
    await ctx.backing.deleteManifest(repo, found.digest);
    ctx.state.forgetManifest(repo, found.digest);
    c.res.writeHead(200, { 'content-length': 0 }).end();
    ctx.onArtifactDeleted?.(repo, found.digest, [...found.tags]);
  });
}

function withTag(c: Call): boolean {
  return c.params.get('with_tag') !== 'false';
}

/** go-swagger's boolean query binding: true only when asked (the default is false). */
function withLabel(c: Call): boolean {
  return c.params.get('with_label') === 'true';
}

async function route(c: Call, ctx: ApiContext, segments: string[]): Promise<void> {
  const method = c.req.method ?? 'GET';
  const [top, p, sub, r, leaf, ref, tail, ...extra] = segments;
  const get = method === 'GET';
  if (top === 'labels' && p === undefined && method === 'POST') return createLabel(c.res, c.caller, ctx.state, c.body);
  if (top !== 'projects' || extra.length > 0) return notFound(c.res, `path ${c.rawPath} was not found`);
  if (p === undefined) {
    if (method === 'HEAD') {
      if (c.caller !== 'admin') return sendError(c.res, 401, ...UNAUTHORIZED);
      const exists = ctx.state.project(c.params.get('project_name') ?? '') !== undefined;
      c.res.writeHead(exists ? 200 : 404).end();
      return;
    }
    if (get) return listProjects(c, ctx);
  } else if (sub === undefined) {
    if (get) return getProject(c, ctx, p);
  } else if (sub === 'webhook' && r === 'policies' && ref === undefined) {
    if (handleWebhookPolicies(c, ctx.state, p, leaf)) return;
  } else if (sub === 'repositories' && r === undefined) {
    if (get) return listRepositories(c, ctx, p);
  } else if (sub === 'repositories' && r !== undefined) {
    // The route saw the path decoded once; Harbor decodes the repository segment once more.
    let name: string;
    try {
      name = decodeURIComponent(r);
    } catch {
      return sendError(c.res, 400, 'BAD_REQUEST', `invalid repository name ${r}`);
    }
    if (leaf === undefined && get) {
      return withRepository(c, ctx, p, name, async (project, repo) =>
        sendJson(c.res, 200, await repositoryJson(ctx, project, repo)),
      );
    }
    if (leaf === 'artifacts' && method === 'DELETE' && ref !== undefined && tail === undefined) {
      return deleteArtifact(c, ctx, p, name, ref);
    }
    if (leaf === 'artifacts' && method === 'POST' && ref !== undefined && tail === 'labels') {
      return withRepository(c, ctx, p, name, async (_project, repo, records) => {
        const found = findArtifact(records, ref);
        if (!found) return notFound(c.res, `artifact ${repo}@${ref} not found`);
        addArtifactLabel(c.res, c.caller, ctx.state, { repo, digest: found.digest }, c.body);
      });
    }
    if (leaf === 'artifacts' && get) {
      return withRepository(c, ctx, p, name, async (project, repo, records) => {
        const render = {
          backing: ctx.backing,
          state: ctx.state,
          projectId: project.id,
          repo,
          records,
          withTag: withTag(c),
          withLabel: withLabel(c),
        };
        if (ref === undefined) {
          const page = paged(c);
          if (!page) return;
          const list = filterArtifacts(records, c.params.get('q'));
          const items = await Promise.all(slicePage(list, page).map((a) => artifactJson(render, a)));
          return sendJson(c.res, 200, items, pagingHeaders(c.rawPath, c.params, list.length, page));
        }
        const found = findArtifact(records, ref);
        if (!found) return notFound(c.res, `artifact ${repo}${ref.startsWith('sha256:') ? '@' : ':'}${ref} not found`);
        if (tail === undefined) return sendJson(c.res, 200, await artifactJson(render, found));
        if (tail === 'tags') {
          const page = paged(c);
          if (!page) return;
          const tags = tagJson(render, found);
          return sendJson(c.res, 200, slicePage(tags, page), pagingHeaders(c.rawPath, c.params, tags.length, page));
        }
        return notFound(c.res, `path ${c.rawPath} was not found`);
      });
    }
  }
  if (!get) return sendError(c.res, 405, 'METHOD_NOT_ALLOWED', `method ${method} is not allowed`);
  return notFound(c.res, `path ${c.rawPath} was not found`);
}

export async function handleApi(req: IncomingMessage, res: ServerResponse, ctx: ApiContext): Promise<void> {
  const raw = req.url ?? '/';
  const q = raw.indexOf('?');
  const rawPath = q < 0 ? raw : raw.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
  const identity = ctx.auth.identify(req);
  const caller = ctx.auth.caller(req);
  if (caller === 'invalid') {
    req.resume();
    return sendError(res, 401, ...UNAUTHORIZED);
  }
  let body: Buffer | undefined;
  if (req.method === 'POST' || req.method === 'PUT') {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    body = Buffer.concat(chunks);
  } else {
    req.resume();
  }
  // Go's router matches on the path decoded once: a single-encoded '/' splits the repository
  // name into more segments and the route no longer matches, as in Harbor.
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return sendError(res, 400, 'BAD_REQUEST', `invalid path ${rawPath}`);
  }
  const segments = decoded.slice('/api/v2.0/'.length).split('/');
  if (segments[segments.length - 1] === '') segments.pop();
  await route({ req, res, caller, identity, rawPath, params, body }, ctx, segments);
}
