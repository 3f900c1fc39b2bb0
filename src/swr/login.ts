// Registry credentials for SWR: the long-term login derived from an AK/SK pair, or explicit ones for
// another registry standing in for SWR.
import { createHmac } from 'node:crypto';
import type { Config } from '../config/config.js';
import type { Credentials } from '../oci/index.js';

/** SWR's long-term login: user `<region>@<AK>`, password the hex HMAC-SHA256 of the AK keyed with the SK. */
export function aksklogin(region: string, ak: string, sk: string): Credentials {
  return { username: `${region}@${ak}`, password: createHmac('sha256', sk).update(ak).digest('hex') };
}

export function registryLogin(config: Pick<Config, 'hw' | 'swr'>): Credentials {
  if (config.swr.user) return { username: config.swr.user, password: config.swr.password ?? '' };
  if (config.hw.authMethod === 'AKSK') return aksklogin(config.hw.region, config.hw.ak!, config.hw.sk!);
  throw new Error('HWAuthMethod=Password is not supported by this version yet: use HWAuthMethod=AKSK with HWAK and HWSK');
}
