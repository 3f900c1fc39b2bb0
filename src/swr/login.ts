// SWR's long-term registry login, derived from an AK/SK pair.
import { createHmac } from 'node:crypto';
import type { Credentials } from '../oci/index.js';

/** User `<region>@<AK>`, password the lowercase hex HMAC-SHA256 of the AK keyed with the SK. */
export function aksklogin(region: string, ak: string, sk: string): Credentials {
  return { username: `${region}@${ak}`, password: createHmac('sha256', sk).update(ak).digest('hex') };
}
