// Owns turning a running test registry (or a proxy in front of one) into the RegistryClient under test.
import { RegistryClient } from '../../src/oci/index.js';
import type { RegistryAccess } from './registry-http.js';

export function clientFor(
  target: RegistryAccess,
  options: { push?: boolean; requestsPerSecond?: number; retries?: number } = {},
): RegistryClient {
  const url = new URL(target.url);
  return new RegistryClient({
    host: url.host,
    insecure: url.protocol === 'http:',
    credentials:
      target.username && target.auth !== 'none'
        ? { username: target.username, password: target.password ?? '' }
        : undefined,
    push: options.push,
    requestsPerSecond: options.requestsPerSecond,
    retry: { retries: options.retries ?? 5, baseDelayMs: 20, maxDelayMs: 500 },
    // The test token server listens on its own plain-http port: listed, as an operator would list it.
    tokenRealmHosts: target.tokenServer ? [new URL(target.tokenServer.realm).host] : undefined,
  });
}

/** The same registry seen through a proxy: same auth, another address. */
export function through(target: RegistryAccess, proxyUrl: string): RegistryAccess {
  return { ...target, url: proxyUrl };
}
