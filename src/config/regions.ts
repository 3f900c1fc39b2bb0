// Huawei Cloud regions that SWR serves, and the registry host of each (eu-west-101 lives under .eu).

export const SWR_REGIONS = [
  'af-south-1',
  'af-north-1',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-southeast-3',
  'ap-southeast-4',
  'ap-southeast-5',
  'cn-east-2',
  'cn-east-3',
  'cn-east-4',
  'cn-east-5',
  'cn-north-1',
  'cn-north-2',
  'cn-north-4',
  'cn-north-9',
  'cn-north-11',
  'cn-north-12',
  'cn-south-1',
  'cn-south-2',
  'cn-south-4',
  'cn-southwest-2',
  'cn-southwest-3',
  'ru-northwest-2',
  'ru-moscow-1',
  'la-south-2',
  'la-north-2',
  'sa-brazil-1',
  'sa-peru-1',
  'na-mexico-1',
  'tr-west-1',
  'ae-ad-1',
  'me-east-1',
  'my-kualalumpur-1',
  'eu-west-0',
  'eu-west-101',
] as const;

export function isKnownRegion(region: string): boolean {
  return (SWR_REGIONS as readonly string[]).includes(region);
}

function domain(region: string): string {
  return region === 'eu-west-101' ? 'myhuaweicloud.eu' : 'myhuaweicloud.com';
}

export function swrRegistryHost(region: string): string {
  return `swr.${region}.${domain(region)}`;
}

export function swrApiHost(region: string): string {
  return `swr-api.${region}.${domain(region)}`;
}

export function iamHost(region: string): string {
  return `iam.${region}.${domain(region)}`;
}

/**
 * The SWR API or IAM endpoint for another region of the account: that region's own host while the configured
 * endpoint is the configured region's default (namespaces must not be checked in another region), the configured
 * one when SWRApiEndpoint/IAMEndpoint name another host (a proxy, a test double).
 */
export function regionEndpoint(
  configured: string,
  hostOf: (region: string) => string,
  configuredRegion: string,
  region: string,
): string {
  const isDefault = configured.replace(/\/$/, '') === `https://${hostOf(configuredRegion)}`;
  return isDefault && isKnownRegion(region) ? `https://${hostOf(region)}` : configured;
}
