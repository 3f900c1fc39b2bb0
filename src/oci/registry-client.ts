// RegistryClient: the OCI Distribution API of one registry host, for pulling or pushing, over one Transport.
import { repositoryScope } from './auth.js';
import { readBlob, headBlob, type ReadBlobOptions } from './blobs.js';
import { listReferrers, listRepositories, listTags, type InvalidNameHandler, type Referrers } from './listing.js';
import { deleteManifest, getManifest, headManifest, putManifest, type ManifestHead } from './manifests.js';
import { Transport, type CallOptions, type TransportOptions } from './transport.js';
import type { Descriptor, FetchedManifest } from './types.js';
import { cancelUpload, putBlob, putBlobChunked, startUpload, type MountRequest, type UploadStart } from './upload.js';

export interface RegistryClientOptions extends TransportOptions {
  /** Ask for push rights with every token, so one token per repository serves the whole copy. */
  push?: boolean;
  /** Names asked per page of tag and catalog listings (registries cap it; Distribution at 1000 by default). */
  pageSize?: number;
  /**
   * Told of each name in a tag or catalog listing that breaks the distribution grammar (`..`, capitals, `?`...):
   * it is left out of the listing. Log it; the name is the registry's, unescaped.
   */
  onInvalidName?: InvalidNameHandler;
}

export type Counters = { retries: number };

/** Repositories per batched token: about 10 keeps the token URL and the token itself well under 8 KB headers. */
export const TOKEN_BATCH = 10;
export type { CallOptions };

export class RegistryClient {
  readonly transport: Transport;
  readonly host: string;
  private readonly actions: string;
  private readonly pageSize: number;
  private readonly onInvalidName?: InvalidNameHandler;

  constructor(options: RegistryClientOptions) {
    this.transport = new Transport(options);
    this.host = options.host;
    this.actions = options.push ? 'pull,push' : 'pull';
    this.pageSize = options.pageSize ?? 1000;
    this.onInvalidName = options.onInvalidName;
  }

  private scope(repository: string, call: CallOptions = {}) {
    return { scopes: [repositoryScope(repository, this.actions)], counters: call.counters, signal: call.signal };
  }

  /** GET /v2/: checks reachability and credentials up front, so a bad password fails before any work starts. */
  async ping(call: CallOptions = {}): Promise<void> {
    const ctx = { host: this.host, action: 'reach' };
    const res = await this.transport.send({ method: 'GET', path: '/v2/', scopes: [], context: ctx, ...call });
    await res.body.dump();
    if (res.status !== 200) throw await this.transport.failure(res, ctx);
  }

  /**
   * Fetches tokens for a batch of repositories about to be used, one token for up to `TOKEN_BATCH` of them, so
   * that their requests need no token request each. Only a saving: where the realm grants less, or the registry
   * does not use tokens, each repository still gets its own token when first used. Never throws.
   */
  async prepareScopes(repositories: string[], call: CallOptions = {}): Promise<void> {
    const unique = [...new Set(repositories)];
    if (unique.length < 2) return;
    try {
      await this.transport.learnAuth(call.signal);
    } catch {
      return;
    }
    const sets = unique.map((repository) => this.scope(repository).scopes);
    for (let i = 0; i < sets.length; i += TOKEN_BATCH)
      await this.transport.auth.prepare(sets.slice(i, i + TOKEN_BATCH));
  }

  getManifest(repository: string, reference: string, call?: CallOptions): Promise<FetchedManifest> {
    return getManifest(this.transport, repository, reference, this.scope(repository, call));
  }

  headManifest(repository: string, reference: string, call?: CallOptions): Promise<ManifestHead | undefined> {
    return headManifest(this.transport, repository, reference, this.scope(repository, call));
  }

  putManifest(
    repository: string,
    reference: string,
    manifest: { mediaType: string; bytes: Buffer; digest: string },
    call?: CallOptions,
  ): Promise<string> {
    return putManifest(this.transport, repository, reference, manifest, this.scope(repository, call));
  }

  /** Deletes the manifest and so every tag on it; the token asks for `delete` on the repository. */
  deleteManifest(repository: string, digest: string, call: CallOptions = {}): Promise<'deleted' | 'absent'> {
    const scope = { ...this.scope(repository, call), scopes: [repositoryScope(repository, 'delete')] };
    return deleteManifest(this.transport, repository, digest, scope);
  }

  headBlob(repository: string, digest: string, call?: CallOptions): Promise<boolean> {
    return headBlob(this.transport, repository, digest, this.scope(repository, call));
  }

  /** `options` carries the counters and the signal, as `call` does elsewhere. */
  readBlob(
    repository: string,
    blob: Descriptor,
    options: Omit<ReadBlobOptions, 'scopes'> = {},
  ): AsyncGenerator<Buffer> {
    return readBlob(this.transport, repository, blob, { ...options, scopes: this.scope(repository).scopes });
  }

  /** With a mount source, the token also carries pull on that repository, as the registry requires. */
  startUpload(repository: string, mount?: MountRequest, call?: CallOptions): Promise<UploadStart> {
    const scope = this.scope(repository, call);
    if (mount?.from && mount.from !== repository) scope.scopes.push(repositoryScope(mount.from, 'pull'));
    return startUpload(this.transport, repository, mount, scope);
  }

  putBlob(repository: string, location: string, blob: Descriptor, body: AsyncIterable<Buffer>, call?: CallOptions) {
    return putBlob(this.transport, repository, location, blob, body, this.scope(repository, call));
  }

  putBlobChunked(
    repository: string,
    location: string,
    blob: Descriptor,
    body: AsyncIterable<Buffer>,
    chunkSize: number,
    call?: CallOptions,
  ) {
    return putBlobChunked(this.transport, repository, location, blob, body, chunkSize, this.scope(repository, call));
  }

  /** Not stopped by a signal: the session is given back even when the job that opened it is being stopped. */
  cancelUpload(repository: string, location: string): Promise<void> {
    return cancelUpload(this.transport, repository, location, this.scope(repository));
  }

  listTags(repository: string, call?: CallOptions): Promise<string[] | undefined> {
    return listTags(this.transport, repository, this.pageSize, this.scope(repository, call), this.onInvalidName);
  }

  listRepositories(call: CallOptions = {}): Promise<string[]> {
    return listRepositories(
      this.transport,
      this.pageSize,
      { scopes: ['registry:catalog:*'], ...call },
      this.onInvalidName,
    );
  }

  listReferrers(repository: string, digest: string, call?: CallOptions): Promise<Referrers> {
    return listReferrers(this.transport, repository, digest, this.scope(repository, call));
  }

  /** `force` cuts off every job's requests to this host; a single job is stopped through its signal. */
  close(force = false): Promise<void> {
    return this.transport.close(force);
  }
}
