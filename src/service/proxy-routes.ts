// Owns check-config's account of the proxy: for each endpoint the service calls (Harbor, each destination's
// registry, SWR's and IAM's APIs when they are used), whether it goes through a proxy, which, and why.
import type { Config } from '../config/config.js';
import { hasAccountKeys } from '../swr/account-keys.js';
import type { CheckResult } from './check-result.js';

export function proxyRouteChecks(config: Config): CheckResult[] {
  const endpoints: Array<[string, string]> = [
    [`Harbor ${config.harbor.address}`, `${config.harbor.protocol}://${config.harbor.address}`],
  ];
  for (const dest of config.destinations) {
    const named = dest === config.destinations[0] ? '' : ` (${dest.name})`;
    endpoints.push([`SWR registry ${dest.host}${named}`, `${dest.swr.protocol}://${dest.host}`]);
    if (!hasAccountKeys(dest.hw)) continue;
    endpoints.push([`SWR API ${new URL(dest.swr.apiEndpoint).host}${named}`, dest.swr.apiEndpoint]);
    if (dest.hw.authMethod === 'Password')
      endpoints.push([`IAM ${new URL(dest.swr.iamEndpoint).host}${named}`, dest.swr.iamEndpoint]);
  }
  return endpoints.map(([name, url]) => ({
    ok: true,
    what: `route to ${name}`,
    detail: config.proxy.route(url).reason,
  }));
}
