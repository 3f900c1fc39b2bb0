// The clients built from the configuration in one place: every setting they take from it lands where it belongs.
import { expect, test } from '@jest/globals';
import { parseConfig } from '../../src/config/config.js';
import { copyEngineOptions, destinationClient, harborClient, registryEndpoints } from '../../src/service/clients.js';

const RAW: Record<string, string> = {
  NamespaceMap: 'library:mycompany',
  HWAuthMethod: 'AKSK',
  HWAK: 'AKEXAMPLE0000000001',
  HWSK: 'sk-example-value-000000001',
  RegionName: 'cn-north-4',
  HarborAddr: 'harbor.example.com:8443',
  HarborProtocol: 'https',
  HarborInsecure: 'true',
  SWRRegistry: 'registry.example.com:5000',
  SWRProtocol: 'http',
  ImageOverwrite: 'true',
  MaxImagesInFlight: '3',
  MaxBlobTransfers: '5',
  ManifestFormat: 'docker',
  CopySignatures: 'false',
};

test('the copy engine takes overwrite, both limits, the manifest format and signatures from the configuration', () => {
  expect(copyEngineOptions(parseConfig(RAW))).toEqual({
    overwrite: true,
    maxImagesInFlight: 3,
    maxBlobTransfersPerRegistry: 5,
    manifestFormat: 'docker',
    referrers: false,
  });
});

test('readiness pings Harbor and the destination with their own protocol, TLS and proxy settings', () => {
  const config = parseConfig(RAW);
  const proxies = config.proxy;
  expect(registryEndpoints(config)).toEqual({
    harbor: {
      host: 'harbor.example.com:8443',
      insecure: false,
      skipTlsVerify: true,
      caCertificate: undefined,
      proxies,
    },
    destination: {
      host: 'registry.example.com:5000',
      insecure: true,
      skipTlsVerify: false,
      caCertificate: undefined,
      proxies,
    },
  });
});

test('Harbor and the destination clients are addressed from the configuration', async () => {
  const config = parseConfig(RAW);
  const harbor = harborClient(config, { user: 'robot', password: 'robot-password' });
  const destination = destinationClient(config, 'swr.other.example', { username: 'u', password: 'p' });
  try {
    expect(harbor.baseUrl).toBe('https://harbor.example.com:8443');
    expect(harbor.hasCredentials).toBe(true);
    expect(destination.host).toBe('swr.other.example');
  } finally {
    await Promise.all([harbor.close(), destination.close()]);
  }
});
