// Owns Harbor 1.10's REST API v1 subset (api/harbor/swagger.yaml and src/core/api at v1.10.19): systeminfo,
// projects by a substring name filter, repositories by project id, tags with their digests. Errors are
// beego's http.Error: text/plain carrying `{"code":N,"message":"..."}`; paging links as BaseAPI's.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { collectArtifacts } from './artifacts.js';
import type { Auth, Caller } from './auth.js';
import type { Backing } from './backing.js';
import { sendJson } from './http.js';
import type { HarborState, Project } from './state.js';

export interface V1Context {
  state: HarborState;
  auth: Auth;
  backing: Backing;
  externalUrl: () => string;
  version: string;
  /** A tag deleted through the API (its manifest with it), naming the tag: 1.10 fires deleteImage. */
  onArtifactDeleted?: (repo: string, digest: string, tags: string[]) => void;
}

/** common/api BaseAPI.RenderFormattedError: http.Error with a JSON text. */
function sendV1Error(res: ServerResponse, status: number, message: string): void {
  const text = `${JSON.stringify({ code: status, message })}\n`;
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'x-content-type-options': 'nosniff',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** GetPaginationParams: defaults 1 and 10, page_size capped at 100, anything else invalid is a 400. */
function pageOf(params: URLSearchParams): { page: number; size: number } | string {
  const page = Number(params.get('page') ?? '1');
  let size = Number(params.get('page_size') ?? '10');
  if (!Number.isInteger(page) || page <= 0) return 'invalid page';
  if (!Number.isInteger(size) || size <= 0) return 'invalid page_size';
  if (size > 100) size = 100;
  return { page, size };
}

/** SetPaginationHeader: the request URL with page replaced, query re-encoded with sorted keys (url.Values.Encode). */
function pagingHeaders(
  path: string,
  params: URLSearchParams,
  total: number,
  page: number,
  size: number,
): Record<string, string> {
  const at = (p: number) => {
    const q = new URLSearchParams(params);
    q.set('page', String(p));
    q.sort();
    return `<${path}?${q.toString()}>`;
  };
  const links: string[] = [];
  if (page > 1 && (page - 1) * size <= total) links.push(`${at(page - 1)}; rel="prev"`);
  if (size * page < total) links.push(`${at(page + 1)}; rel="next"`);
  return { 'x-total-count': String(total), ...(links.length ? { link: links.join(', ') } : {}) };
}

function projectJson(ctx: V1Context, p: Project, repoCount: number): object {
  return {
    project_id: p.id,
    owner_id: 1,
    name: p.name,
    creation_time: p.creationTime,
    update_time: p.creationTime,
    deleted: false,
    owner_name: ctx.state.adminName,
    togglable: true,
    current_user_role_id: 1,
    current_user_role_ids: [1],
    repo_count: repoCount,
    chart_count: 0,
    metadata: { public: p.public ? 'true' : 'false' },
    cve_whitelist: { id: 0, project_id: p.id, items: [], expires_at: null },
  };
}

async function repositories(ctx: V1Context, project: string): Promise<string[]> {
  return (await ctx.backing.catalog()).filter((r) => r.startsWith(`${project}/`)).sort();
}

/** RequireProjectAccess: unknown projects are 404 to the admin, a permission error to others. */
function access(res: ServerResponse, ctx: V1Context, caller: Caller, project: Project | undefined): project is Project {
  if (project && (caller === 'admin' || project.public)) return true;
  if (!project && caller === 'admin') sendV1Error(res, 404, 'project not found');
  else if (caller === 'admin') sendV1Error(res, 403, 'forbidden');
  else sendV1Error(res, 401, 'UnAuthorized');
  return false;
}

/** Tags of a repository as `DetailedTag` (assembleTagsInParallel), sorted by name. */
async function detailedTags(ctx: V1Context, repo: string): Promise<object[]> {
  const records = await collectArtifacts(ctx.backing, ctx.state, repo);
  const tags: object[] = [];
  for (const rec of records.values()) {
    for (const name of rec.tags) {
      const config = rec.manifest.json.config?.digest
        ? await ctx.backing.jsonBlob(repo, rec.manifest.json.config.digest)
        : undefined;
      tags.push({
        digest: rec.digest,
        name,
        size:
          rec.manifest.size +
          ((rec.manifest.json.layers ?? []) as Array<{ size: number }>).reduce((n, l) => n + l.size, 0),
        architecture: config?.architecture ?? '',
        os: config?.os ?? '',
        os_version: '',
        docker_version: config?.docker_version ?? '',
        author: config?.author ?? '',
        created: config?.created ?? '0001-01-01T00:00:00Z',
        config: config?.config ?? {},
        signature: null,
        labels: [],
        push_time: rec.pushTime,
        pull_time: '0001-01-01T00:00:00Z',
      });
    }
  }
  return tags.sort((a, b) => ((a as { name: string }).name < (b as { name: string }).name ? -1 : 1));
}

/**
 * DELETE /api/repositories/<repo>/tags/<tag> as 1.10's RepositoryAPI.Delete does it: the registry's manifest
 * DELETE by the tag's digest (so every tag on that digest goes), 200, then deleteImage naming the tag.
 */
async function deleteTag(res: ServerResponse, ctx: V1Context, caller: Caller, path: string): Promise<void> {
  const route = /^\/api\/repositories\/(.+?)\/tags\/([^/]+)$/.exec(path);
  if (!route) return sendV1Error(res, 405, 'Method Not Allowed');
  if (caller !== 'admin') return sendV1Error(res, 401, 'UnAuthorized');
  const repo = decodeURIComponent(route[1]);
  const tag = decodeURIComponent(route[2]);
  const manifest = await ctx.backing.manifest(repo, tag);
  if (!manifest) return sendV1Error(res, 404, `tag ${tag} not found`);
  await ctx.backing.deleteManifest(repo, manifest.digest);
  ctx.state.forgetManifest(repo, manifest.digest);
  res.writeHead(200, { 'content-length': 0 }).end();
  ctx.onArtifactDeleted?.(repo, manifest.digest, [tag]);
}

export async function handleApiV1(req: IncomingMessage, res: ServerResponse, ctx: V1Context): Promise<void> {
  req.resume();
  const url = new URL(req.url ?? '/', 'http://harbor');
  const path = url.pathname.replace(/\/+$/, '');
  const caller = ctx.auth.caller(req);
  // A failed Basic login goes on as anonymous (filter/security.go): systeminfo answers, the rest refuses it.
  if (caller === 'invalid' && path !== '/api/systeminfo') return sendV1Error(res, 401, 'UnAuthorized');
  if (req.method === 'DELETE') return deleteTag(res, ctx, caller, path);
  if (req.method !== 'GET') return sendV1Error(res, 405, 'Method Not Allowed');
  if (path === '/api/systeminfo') {
    const ext = ctx.externalUrl();
    return sendJson(res, 200, {
      with_notary: false,
      with_admiral: false,
      admiral_endpoint: 'NA',
      auth_mode: 'db_auth',
      registry_url: ext.replace(/^https?:\/\//, ''),
      external_url: ext,
      project_creation_restriction: 'everyone',
      self_registration: true,
      has_ca_root: false,
      harbor_version: ctx.version,
      registry_storage_provider_name: 'filesystem',
      read_only: false,
      with_chartmuseum: false,
      notification_enable: true,
    });
  }
  if (path === '/api/projects') {
    const p = pageOf(url.searchParams);
    if (typeof p === 'string') return sendV1Error(res, 400, p);
    const name = url.searchParams.get('name') ?? '';
    // The dao filters with `name LIKE %name%`; anonymous callers see public projects only, members theirs too.
    const identity = ctx.auth.identify(req);
    const member = (x: Project) => identity.kind === 'user' && identity.roles[x.name] !== undefined;
    const visible = ctx.state.projects
      .filter((x) => (caller === 'admin' || x.public || member(x)) && x.name.includes(name))
      .sort((a, b) => a.name.localeCompare(b.name));
    const items = await Promise.all(
      visible
        .slice((p.page - 1) * p.size, p.page * p.size)
        .map(async (x) => projectJson(ctx, x, (await repositories(ctx, x.name)).length)),
    );
    return sendJson(res, 200, items, pagingHeaders(url.pathname, url.searchParams, visible.length, p.page, p.size));
  }
  if (path === '/api/repositories') {
    const id = Number(url.searchParams.get('project_id'));
    if (!Number.isInteger(id) || id <= 0)
      return sendV1Error(res, 400, `invalid project_id ${url.searchParams.get('project_id') ?? ''}`);
    const project = ctx.state.project(id);
    if (!access(res, ctx, caller, project)) return;
    const p = pageOf(url.searchParams);
    if (typeof p === 'string') return sendV1Error(res, 400, p);
    const q = url.searchParams.get('q') ?? '';
    const names = (await repositories(ctx, project.name)).filter((r) => r.includes(q));
    const items = names.slice((p.page - 1) * p.size, p.page * p.size).map((r) => {
      const times = ctx.state.repositoryTimes(r);
      return {
        id: ctx.state.id('repository', r),
        name: r,
        project_id: project.id,
        description: '',
        pull_count: 0,
        star_count: 0,
        tags_count: 0,
        labels: [],
        creation_time: times.creationTime,
        update_time: times.updateTime,
      };
    });
    return sendJson(res, 200, items, pagingHeaders(url.pathname, url.searchParams, names.length, p.page, p.size));
  }
  // beego's `/api/repositories/*/tags` and `*/tags/:tag`: the splat is the repository name, slashes and all.
  const tagRoute = /^\/api\/repositories\/(.+?)\/tags(?:\/([^/]+))?$/.exec(path);
  if (tagRoute) {
    const repo = decodeURIComponent(tagRoute[1]);
    const project = ctx.state.project(repo.split('/')[0]);
    if (!access(res, ctx, caller, project)) return;
    const tags = await detailedTags(ctx, repo);
    if (tagRoute[2] === undefined) return sendJson(res, 200, tags);
    const tag = decodeURIComponent(tagRoute[2]);
    const found = tags.find((t) => (t as { name: string }).name === tag);
    return found ? sendJson(res, 200, found) : sendV1Error(res, 404, `resource: ${repo}:${tag} not found`);
  }
  // beego answers unrouted paths with its plain 404 page.
  res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('404 page not found\n');
}
