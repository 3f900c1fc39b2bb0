// Which Harbor answers at HarborAddr: the REST API it speaks (v2.0 from Harbor 2.0, v1 under /api/ before),
// its version string and its external URL (the host of its token realm). The version is a hint only: from
// Harbor 2.13 an anonymous caller gets it empty, so decisions are made on which API answers.
import { HarborError, type HarborClient } from './client.js';

export type HarborApiName = 'v2' | 'v1' | 'registry';
/** The HarborAPI setting: `auto` chooses between v2 and v1, never `registry` (that must be asked for). */
export type HarborApiSetting = 'auto' | HarborApiName;

export interface HarborInfo {
  api: HarborApiName;
  /** `harbor_version` as Harbor reports it (`v2.10.0-abc`, `v1.10.17`); undefined when unknown or hidden. */
  version?: string;
  /** `external_url` from an authenticated systeminfo: the origin of Harbor's token realm. */
  externalUrl?: string;
}

interface SystemInfo {
  harbor_version?: unknown;
  external_url?: unknown;
}

const SYSTEMINFO: Record<'v2' | 'v1', string> = { v2: '/api/v2.0/systeminfo', v1: '/api/systeminfo' };

/**
 * Asks Harbor which API it speaks. With `setting` forced to one API only that one is asked (a failure then
 * says so); `registry` asks nothing. Throws a HarborError with code `NO_API` when HarborAddr answers no
 * Harbor REST API at all (its message is what every command and answer says of it), and the client's own
 * errors (network, TLS, credentials) as they are.
 */
export async function detectHarbor(harbor: HarborClient, setting: HarborApiSetting = 'auto'): Promise<HarborInfo> {
  if (setting === 'registry') return { api: 'registry' };
  const candidates: Array<'v2' | 'v1'> = setting === 'auto' ? ['v2', 'v1'] : [setting];
  /** What each systeminfo asked gave, for the message: `GET /api/v2.0/systeminfo gave 404`. */
  const gave: string[] = [];
  for (const api of candidates) {
    const res = await askSystemInfo(harbor, SYSTEMINFO[api]);
    if (typeof res === 'string') {
      gave.push(`GET ${SYSTEMINFO[api]} gave ${res}`);
      continue;
    }
    const info = res as SystemInfo;
    return {
      api,
      version: typeof info.harbor_version === 'string' && info.harbor_version !== '' ? info.harbor_version : undefined,
      externalUrl:
        typeof info.external_url === 'string' && /^https?:\/\//i.test(info.external_url)
          ? info.external_url
          : undefined,
    };
  }
  const notHarbor = `HarborAddr ${harbor.baseUrl} does not answer as Harbor (${gave.join(', ')}`;
  if (setting !== 'auto')
    throw new HarborError(
      `${notHarbor}; HarborAPI=${setting} asks for Harbor's ${setting} REST API only): check HarborAddr/HarborProtocol, or set HarborAPI=auto`,
      404,
      'NO_API',
    );
  if (await answersRegistryApi(harbor))
    throw new HarborError(
      `${notHarbor}; it answers the registry API /v2/): check HarborAddr/HarborProtocol, or set HarborAPI=registry to sync through the registry alone`,
      404,
      'NO_API',
    );
  throw new HarborError(
    `${notHarbor}): check HarborAddr/HarborProtocol; if it is a plain registry, set HarborAPI=registry to sync through the registry alone`,
    404,
    'NO_API',
  );
}

/**
 * Harbor's systeminfo as a JSON object, or what came instead (`404`, `200 with a body that is not JSON`): a web
 * server or proxy that is not Harbor answers these. Credentials refused, no answer and the like are thrown.
 */
async function askSystemInfo(harbor: HarborClient, path: string): Promise<object | string> {
  try {
    const res = await harbor.call('GET', path, { ok: [200, 404] });
    if (res.status !== 200) return String(res.status);
    if (!res.json || typeof res.json !== 'object' || Array.isArray(res.json))
      return `${res.status} with JSON that is not Harbor's systeminfo`;
    return res.json;
  } catch (error) {
    if (error instanceof HarborError && error.code === 'BAD_RESPONSE')
      return `${error.status} with a body that is not JSON`;
    throw error;
  }
}

/** A Distribution registry answers /v2/ (200, or 401 asking for credentials) with its API version header. */
async function answersRegistryApi(harbor: HarborClient): Promise<boolean> {
  try {
    const res = await harbor.call('GET', '/v2/', { ok: [200, 401] });
    return res.headers['docker-distribution-api-version'] !== undefined;
  } catch {
    return false;
  }
}

/** For logs: `Harbor v1.10.17 (API v1)`, `Harbor (version hidden, API v2.0)`, `a plain registry`. */
export function describeHarbor(info: HarborInfo): string {
  if (info.api === 'registry') return 'a plain registry (HarborAPI=registry: no Harbor REST API is used)';
  const api = info.api === 'v2' ? 'API v2.0' : 'API v1';
  return info.version ? `Harbor ${info.version} (${api})` : `Harbor (version not shown to this user, ${api})`;
}
