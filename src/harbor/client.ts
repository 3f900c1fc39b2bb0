// HarborClient: one REST call to Harbor (any API version) with this service's address, TLS settings and
// credentials, every body read bounded in size and every call in time, so a broken or hostile Harbor costs
// at most a few MiB and seconds. What to ask lives in the sources (v2-source.ts, v1-source.ts).
import type { Agent, Dispatcher } from 'undici';
import { request } from '../oci/undici-parts.js';
import { connectionPool, proxyFailureOf, type ProxyRoutes } from '../oci/index.js';
import { userAgent } from '../oci/user-agent.js';
import { HarborError, harborFailure } from './errors.js';

export { HarborError } from './errors.js';
export type { HarborProject, HarborArtifact } from './source.js';

export interface HarborClientOptions {
  address: string;
  protocol: 'http' | 'https';
  username?: string;
  password?: string;
  skipTlsVerify?: boolean;
  caCertificate?: string;
  /** Which connections go through a proxy; all direct when absent. */
  proxies?: ProxyRoutes;
  /** Largest successful (JSON) body read; default 8 MiB. */
  maxBodyBytes?: number;
  /** Largest error body read (the rest is not read); default 64 KiB. */
  maxErrorBytes?: number;
  /** Whole-call deadline, headers and body; default 30 s. */
  deadlineMs?: number;
}

export interface HarborResponse {
  status: number;
  json: unknown;
  text: string;
  headers: Dispatcher.ResponseData['headers'];
}

const MiB = 1024 * 1024;

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
    const { proxies, skipTlsVerify, caCertificate } = options;
    this.dispatcher = connectionPool({ proxies, skipTlsVerify, caCertificate, connections: 8 });
    if (options.username)
      this.authorization = `Basic ${Buffer.from(`${options.username}:${options.password ?? ''}`).toString('base64')}`;
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

  close(force = false): Promise<void> {
    return force ? this.dispatcher.destroy() : this.dispatcher.close();
  }

  /**
   * One REST call. Statuses in `ok` come back (with the JSON body, null when empty); others throw a
   * HarborError, as do an unreachable Harbor, a body over the cap and a call past its deadline.
   */
  async call(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    path: string,
    options: { headers?: Record<string, string>; body?: unknown; ok: number[] },
  ): Promise<HarborResponse> {
    const url = new URL(path, this.baseUrl);
    // Every call carries Harbor's credentials: a path from a peer (a paging link whose `/./` folds into `//host`)
    // must not resolve to another origin.
    const origin = new URL(this.baseUrl).origin;
    if (url.origin !== origin)
      throw new HarborError(
        `a Harbor API path resolved to ${url.origin}, not Harbor's ${origin}; not called, so that no credentials leave for it`,
        0,
        'BAD_PAGING',
      );
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const deadlineMs = this.options.deadlineMs ?? 30_000;
    const signal = AbortSignal.timeout(deadlineMs);
    const where = `${url.origin}${url.pathname}`;
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, {
        method,
        headers: {
          accept: 'application/json',
          'user-agent': userAgent(),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...options.headers,
          ...(this.authorization ? { authorization: this.authorization } : {}),
        },
        body,
        dispatcher: this.dispatcher,
        signal,
      });
    } catch (error) {
      if (signal.aborted) throw late(where, deadlineMs);
      const proxy = proxyFailureOf(error);
      throw new HarborError(
        proxy
          ? `cannot reach Harbor at ${this.baseUrl}: ${proxy.message}`
          : `cannot reach Harbor at ${this.baseUrl}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}; check HarborAddr, HarborProtocol and the network`,
        0,
        'NETWORK',
      );
    }
    const success = options.ok.includes(res.statusCode);
    const limit = success ? (this.options.maxBodyBytes ?? 8 * MiB) : (this.options.maxErrorBytes ?? 64 * 1024);
    const read = await readBounded(res.body, limit).catch((error: Error) => {
      throw signal.aborted
        ? late(where, deadlineMs)
        : new HarborError(`Harbor's answer from ${where} broke off: ${error.message}`, 0, 'NETWORK');
    });
    if (!success) throw harborFailure(res.statusCode, read.text, url, this.hasCredentials);
    if (read.truncated) {
      throw new HarborError(
        `Harbor's answer from ${where} is larger than ${limit} bytes; it was not read further (a proxy or something else than Harbor answers at HarborAddr?)`,
        res.statusCode,
        'TOO_LARGE',
      );
    }
    let json: unknown = null;
    try {
      json = read.text ? JSON.parse(read.text) : null;
    } catch {
      // A success must be JSON; an error page (a proxy's HTML) is reported by its status, the text kept for messages.
      if (res.statusCode < 300)
        throw new HarborError(
          `Harbor answered ${res.statusCode} for ${where} with a body that is not JSON`,
          res.statusCode,
          'BAD_RESPONSE',
        );
    }
    return { status: res.statusCode, json, text: read.text, headers: res.headers };
  }
}

function late(where: string, deadlineMs: number): HarborError {
  return new HarborError(
    `Harbor did not answer ${where} within ${deadlineMs / 1000} s; check that Harbor is healthy and HarborAddr points at it`,
    0,
    'TIMEOUT',
  );
}

/** Reads at most `limit` bytes, then drops the connection rather than read on. */
async function readBounded(
  body: Dispatcher.ResponseData['body'],
  limit: number,
): Promise<{ text: string; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buffer = chunk as Buffer;
    if (size + buffer.length > limit) {
      chunks.push(buffer.subarray(0, limit - size));
      body.destroy();
      return { text: Buffer.concat(chunks).toString('utf8'), truncated: true };
    }
    chunks.push(buffer);
    size += buffer.length;
  }
  return { text: Buffer.concat(chunks).toString('utf8'), truncated: false };
}
