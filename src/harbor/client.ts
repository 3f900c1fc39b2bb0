// HarborClient: the parts of Harbor's REST API v2.0 a sync needs (project, repositories, artifacts and their
// tags), with Harbor's paging and its double-encoded repository names.
import { Agent, request, type Dispatcher } from 'undici';
import { nextLink } from '../oci/link.js';
import { tlsOptions } from '../oci/transport.js';

export interface HarborProject {
  id: number;
  name: string;
  public: boolean;
}

export interface HarborArtifact {
  digest: string;
  mediaType: string;
  tags: string[];
  /** Child digests of an index. */
  children: string[];
}

export interface HarborClientOptions {
  address: string;
  protocol: 'http' | 'https';
  username?: string;
  password?: string;
  skipTlsVerify?: boolean;
  caCertificate?: string;
}

export interface HarborResponse {
  status: number;
  json: unknown;
  text: string;
  headers: Dispatcher.ResponseData['headers'];
}

export class HarborError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
  ) {
    super(message);
    this.name = 'HarborError';
  }
}

interface WireArtifact {
  digest: string;
  manifest_media_type?: string;
  media_type?: string;
  tags?: Array<{ name: string }> | null;
  references?: Array<{ child_digest: string }> | null;
}

const PAGE_SIZE = 100;

/** Harbor wants `a/b` as `a%252Fb` in the path (swagger `repositoryName`). */
export function encodeRepository(name: string): string {
  return encodeURIComponent(encodeURIComponent(name));
}

export class HarborClient {
  readonly baseUrl: string;
  private readonly dispatcher: Agent;
  private readonly authorization?: string;

  constructor(private readonly options: HarborClientOptions) {
    this.baseUrl = `${options.protocol}://${options.address}`;
    this.dispatcher = new Agent({ connections: 8, connect: tlsOptions(options) });
    if (options.username) this.authorization = `Basic ${Buffer.from(`${options.username}:${options.password ?? ''}`).toString('base64')}`;
  }

  /** The same Harbor with other credentials (the old tool's manual call brings its own). */
  withCredentials(username: string | undefined, password: string | undefined): HarborClient {
    return new HarborClient({ ...this.options, username, password });
  }

  get hasCredentials(): boolean {
    return this.authorization !== undefined;
  }

  /** The Harbor user this client acts as, for messages (never the password). */
  get username(): string | undefined {
    return this.options.username;
  }

  /** undefined when the project does not exist. */
  async getProject(name: string): Promise<HarborProject | undefined> {
    const res = await this.get(`/api/v2.0/projects/${encodeURIComponent(name)}`, { 'x-is-resource-name': 'true' }, [200, 404]);
    if (res.status === 404) return undefined;
    const body = res.json as { project_id: number; name: string; metadata?: { public?: string | boolean } };
    return { id: body.project_id, name: body.name, public: String(body.metadata?.public) === 'true' };
  }

  /** Repository names of a project, without the project prefix. */
  async listRepositories(project: string): Promise<string[]> {
    const items = await this.paged<{ name: string }>(`/api/v2.0/projects/${encodeURIComponent(project)}/repositories?page=1&page_size=${PAGE_SIZE}`);
    const prefix = `${project}/`;
    return items.map((r) => (r.name.startsWith(prefix) ? r.name.slice(prefix.length) : r.name));
  }

  /** Tagged artifacts and untagged top-level ones (Harbor leaves index children out of this list). */
  async listArtifacts(project: string, repository: string): Promise<HarborArtifact[]> {
    const items = await this.paged<WireArtifact>(`${this.artifactsPath(project, repository)}?with_tag=true&page=1&page_size=${PAGE_SIZE}`);
    return items.map(toArtifact);
  }

  /** One artifact by tag or digest; undefined when absent. */
  async getArtifact(project: string, repository: string, reference: string): Promise<HarborArtifact | undefined> {
    const res = await this.get(`${this.artifactsPath(project, repository)}/${encodeURIComponent(reference)}?with_tag=true`, {}, [200, 404]);
    return res.status === 404 ? undefined : toArtifact(res.json as WireArtifact);
  }

  close(force = false): Promise<void> {
    return force ? this.dispatcher.destroy() : this.dispatcher.close();
  }

  private artifactsPath(project: string, repository: string): string {
    return `/api/v2.0/projects/${encodeURIComponent(project)}/repositories/${encodeRepository(repository)}/artifacts`;
  }

  private async paged<T>(first: string): Promise<T[]> {
    const items: T[] = [];
    let url: string | undefined = first;
    for (let page = 0; url && page < 10_000; page++) {
      const res = await this.get(url, {}, [200]);
      items.push(...((res.json as T[] | null) ?? []));
      url = nextLink(res.headers.link, new URL(url, this.baseUrl))?.toString();
    }
    return items;
  }

  private async get(path: string, headers: Record<string, string>, ok: number[]): Promise<HarborResponse> {
    return this.call('GET', path, { headers, ok });
  }

  /**
   * One REST call with this client's address, TLS settings and credentials. Statuses in `ok` come back
   * (with the JSON body, null when empty); others throw a HarborError, as does an unreachable Harbor.
   */
  async call(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, options: { headers?: Record<string, string>; body?: unknown; ok: number[] }): Promise<HarborResponse> {
    const url = new URL(path, this.baseUrl);
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, {
        method,
        headers: {
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...options.headers,
          ...(this.authorization ? { authorization: this.authorization } : {}),
        },
        body,
        dispatcher: this.dispatcher,
        headersTimeout: 30_000,
        bodyTimeout: 60_000,
      });
    } catch (error) {
      throw new HarborError(`cannot reach Harbor at ${this.baseUrl}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}; check HarborAddr, HarborProtocol and the network`, 0, 'NETWORK');
    }
    const text = await res.body.text();
    if (!options.ok.includes(res.statusCode)) throw harborFailure(res.statusCode, text, url, this.hasCredentials);
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      // A success must be JSON; an error page (a proxy's HTML) is reported by its status, the text kept for messages.
      if (res.statusCode < 300) throw new HarborError(`Harbor answered ${res.statusCode} for ${url.origin}${url.pathname} with a body that is not JSON`, res.statusCode, 'BAD_RESPONSE');
    }
    return { status: res.statusCode, json, text, headers: res.headers };
  }
}

function toArtifact(wire: WireArtifact): HarborArtifact {
  return {
    digest: wire.digest,
    mediaType: wire.manifest_media_type ?? wire.media_type ?? '',
    tags: (wire.tags ?? []).map((t) => t.name),
    children: (wire.references ?? []).map((r) => r.child_digest),
  };
}

function harborFailure(status: number, body: string, url: URL, withCredentials: boolean): HarborError {
  let detail = '';
  try {
    detail = (JSON.parse(body) as { errors?: Array<{ message?: string }> }).errors?.[0]?.message ?? '';
  } catch {
    detail = body.slice(0, 200);
  }
  const where = `${url.origin}${url.pathname}`;
  if (status === 401) {
    return new HarborError(withCredentials ? `Harbor refused the credentials (HarborUser/HarborPassword) for ${where}` : `Harbor needs credentials for ${where}: set HarborUser and HarborPassword`, 401, 'UNAUTHORIZED');
  }
  if (status === 403) return new HarborError(`the Harbor user may not read ${where}; give it at least the guest role on the project`, 403, 'FORBIDDEN');
  return new HarborError(`Harbor answered ${status} for ${where}${detail ? `: ${detail}` : ''}`, status, `HTTP_${status}`);
}
