// Owns the stand-in's version strings and Harbor 2.x's `GET /api/v2.0/systeminfo` (swagger GeneralInfo):
// external_url and registry_url are protected information, shown to signed-in callers only.
import type { ServerResponse } from 'node:http';
import { sendJson } from './http.js';
import type { StandInVersion } from './policy-dialects.js';

/** A `harbor_version` as the real release reports it (`v<tag>-<commit>`): the last patch release of each minor. */
export const VERSION_STRINGS: Record<StandInVersion, string> = {
  '1.8': 'v1.8.6-ae4c8e5a',
  '1.10': 'v1.10.19-2c3a1b0e',
  '2.0': 'v2.0.6-7b2c8a0e',
  '2.1': 'v2.1.6-1d2e3f4a',
  '2.2': 'v2.2.4-5b6c7d8e',
  '2.3': 'v2.3.5-9f0a1b2c',
};

export function sendSystemInfoV2(
  res: ServerResponse,
  version: StandInVersion,
  externalUrl: string,
  signedIn: boolean,
): void {
  sendJson(res, 200, {
    with_notary: false,
    with_chartmuseum: false,
    auth_mode: 'db_auth',
    ...(signedIn ? { registry_url: externalUrl.replace(/^https?:\/\//, ''), external_url: externalUrl } : {}),
    project_creation_restriction: 'everyone',
    self_registration: false,
    has_ca_root: false,
    harbor_version: VERSION_STRINGS[version],
    registry_storage_provider_name: 'filesystem',
    read_only: false,
    notification_enable: true,
  });
}
