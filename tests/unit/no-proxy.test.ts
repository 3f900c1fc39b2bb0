// The proxy decision on its own: NO_PROXY entries (names and subdomains, .domains, IPs, CIDRs, ports, *), the
// proxy per scheme and where each setting came from, proxy URLs that cannot be used, and the secrets to scrub.
import { describe, expect, test } from '@jest/globals';
import { parseConfig } from '../../src/config/config.js';
import { NoProxyList } from '../../src/oci/no-proxy.js';
import { ProxyRoutes, proxySecrets, shownProxy } from '../../src/oci/proxy.js';

const direct = (noProxy: string, url: string) => NoProxyList.parse(noProxy).match(new URL(url));

describe('NO_PROXY', () => {
  test('a name matches itself and its subdomains, in any case, not a longer name that ends alike', () => {
    expect(direct('corp.example', 'https://corp.example/v2/')).toBe('corp.example');
    expect(direct('corp.example', 'https://Harbor.CORP.example/')).toBe('corp.example');
    expect(direct('corp.example', 'https://notcorp.example/')).toBeUndefined();
    expect(direct('corp.example', 'https://corp.example.evil.io/')).toBeUndefined();
  });

  test('.domain and *.domain match subdomains only', () => {
    expect(direct('.corp.example', 'https://harbor.corp.example/')).toBe('.corp.example');
    expect(direct('.corp.example', 'https://corp.example/')).toBeUndefined();
    expect(direct('*.corp.example', 'https://a.b.corp.example/')).toBe('*.corp.example');
    expect(direct('*.corp.example', 'https://corp.example/')).toBeUndefined();
  });

  test('IPv4 and IPv6 addresses match exactly, with or without brackets', () => {
    expect(direct('10.1.2.3', 'http://10.1.2.3:8080/')).toBe('10.1.2.3');
    expect(direct('10.1.2.3', 'http://10.1.2.30/')).toBeUndefined();
    expect(direct('::1', 'http://[::1]:5000/')).toBe('::1');
    expect(direct('[fd00::5]', 'https://[fd00::5]/')).toBe('[fd00::5]');
  });

  test('CIDRs match the addresses in the range, IPv4 and IPv6, and never a host name', () => {
    expect(direct('10.0.0.0/8', 'https://10.200.3.4/')).toBe('10.0.0.0/8');
    expect(direct('10.0.0.0/8', 'https://11.0.0.1/')).toBeUndefined();
    expect(direct('192.168.1.0/24', 'https://192.168.1.255/')).toBe('192.168.1.0/24');
    expect(direct('192.168.1.0/24', 'https://192.168.2.1/')).toBeUndefined();
    expect(direct('fd00::/8', 'https://[fd12::1]/')).toBe('fd00::/8');
    expect(direct('10.0.0.0/8', 'https://ten.example/')).toBeUndefined();
  });

  test(':port limits an entry to that port, the scheme filling in the default', () => {
    expect(direct('harbor.corp:8443', 'https://harbor.corp:8443/')).toBe('harbor.corp:8443');
    expect(direct('harbor.corp:8443', 'https://harbor.corp/')).toBeUndefined();
    expect(direct('harbor.corp:443', 'https://harbor.corp/')).toBe('harbor.corp:443');
    expect(direct('127.0.0.1:5000', 'http://127.0.0.1:5000/')).toBe('127.0.0.1:5000');
    expect(direct('127.0.0.1:5000', 'http://127.0.0.1:5001/')).toBeUndefined();
    expect(direct('[::1]:5000', 'http://[::1]:5000/')).toBe('[::1]:5000');
  });

  test('* matches everything; entries are split on commas and spaces; none is not understood silently', () => {
    expect(direct('*', 'https://swr.cn-north-4.myhuaweicloud.com/')).toBe('*');
    expect(direct(' a.example ,b.example  c.example', 'https://c.example/')).toBe('c.example');
    expect(NoProxyList.parse('').empty).toBe(true);
    expect(NoProxyList.parse('10.0.0.0/33, http://x.example, a.example:99999, ok.example').problems).toEqual([
      '"10.0.0.0/33" is not a CIDR range (an IPv4 or IPv6 address, "/", then 0 to 32)',
      '"http://x.example" has a scheme: write the host alone (x.example)',
      '"a.example:99999" has a port outside 1-65535',
    ]);
    expect(NoProxyList.parse('bad_host!').problems).toHaveLength(1);
  });

  test('localhost and loopback are not exempt unless listed (curl and undici agree; Go exempts them)', () => {
    expect(direct('corp.example', 'http://localhost:5000/')).toBeUndefined();
    expect(direct('corp.example', 'http://127.0.0.1:5000/')).toBeUndefined();
  });
});

describe('routes', () => {
  const routes = new ProxyRoutes({
    https: { url: 'http://user:p%40ss-word@proxy.corp:3128', from: 'HTTPS_PROXY' },
    http: { url: 'plain.proxy:8080', from: 'http_proxy' },
    noProxy: { text: '.corp.example,10.0.0.0/8', from: 'NO_PROXY' },
  });

  test('each scheme has its proxy, NO_PROXY wins, and the reason names where each came from', () => {
    expect(routes.route('https://swr.cn-north-4.myhuaweicloud.com/v2/')).toMatchObject({
      reason: 'through http://proxy.corp:3128 (HTTPS_PROXY)',
    });
    expect(routes.proxyFor('https://swr.cn-north-4.myhuaweicloud.com/')?.host).toBe('proxy.corp:3128');
    expect(routes.proxyFor('http://harbor.public.example/')?.href).toBe('http://plain.proxy:8080/');
    expect(routes.route('https://harbor.corp.example/')).toEqual({ reason: 'direct (NO_PROXY has .corp.example)' });
    expect(routes.route('https://10.9.9.9/')).toEqual({ reason: 'direct (NO_PROXY has 10.0.0.0/8)' });
    expect(new ProxyRoutes({}).route('https://x.example/')).toEqual({ reason: 'direct (no proxy set)' });
    expect(routes.any).toBe(true);
    expect(new ProxyRoutes({}).any).toBe(false);
  });

  test("what may be shown of a proxy has no credentials; its secrets are the password's forms and the Basic value", () => {
    const [proxy] = routes.all;
    expect(shownProxy(proxy)).toBe('http://proxy.corp:3128');
    expect(proxySecrets(proxy)).toEqual(['p%40ss-word', 'p@ss-word', Buffer.from('user:p@ss-word').toString('base64')]);
    expect(routes.secrets).toEqual(proxySecrets(proxy));
    expect(JSON.stringify(routes)).not.toContain('ss-word');
  });

  test('a proxy URL that cannot be used is a problem naming its source and never its password', () => {
    const bad = new ProxyRoutes({
      https: { url: 'ftp://u:hidden-pw-1@p:21', from: 'Proxy' },
      http: { url: 'http://u:hidden-pw-2@p:3128/some/path', from: 'HTTP_PROXY' },
    });
    expect(bad.problems).toEqual([
      'Proxy uses ftp; only http:// and https:// proxies are supported',
      'HTTP_PROXY must be only scheme, host and port (found a path or query after http://p:3128)',
    ]);
    expect(bad.any).toBe(false);
  });
});

describe('configuration', () => {
  const base = {
    HWAuthMethod: 'AKSK',
    HWAK: 'AK',
    HWSK: 'SK',
    RegionName: 'cn-north-4',
    HarborAddr: 'harbor.corp.example',
    NamespaceMap: 'p:ns',
  };

  test('Proxy and NoProxy replace the environment variables; upper case wins over lower case', () => {
    const env = parseConfig({
      ...base,
      https_proxy: 'http://lower:1',
      HTTPS_PROXY: 'http://upper:2',
      no_proxy: 'harbor.corp.example',
    }).proxy;
    expect(env.route('https://swr.example/').reason).toBe('through http://upper:2 (HTTPS_PROXY)');
    expect(env.route('https://harbor.corp.example/').reason).toBe('direct (no_proxy has harbor.corp.example)');
    expect(env.route('http://plain.example/').reason).toBe('direct (no proxy set)');

    const keys = parseConfig({
      ...base,
      HTTPS_PROXY: 'http://upper:2',
      NO_PROXY: '*',
      Proxy: 'http://key:3',
      NoProxy: '.corp.example',
    }).proxy;
    expect(keys.route('https://swr.example/').reason).toBe('through http://key:3 (Proxy)');
    expect(keys.route('http://plain.example/').reason).toBe('through http://key:3 (Proxy)');
    expect(keys.route('https://harbor.corp.example/').reason).toBe('direct (NoProxy has .corp.example)');
  });

  test('a NoProxy entry that is not understood is a configuration problem', () => {
    expect(() => parseConfig({ ...base, Proxy: 'http://p:1', NoProxy: '10.0.0.0/99' })).toThrow(
      /NoProxy: "10\.0\.0\.0\/99" is not a CIDR range/,
    );
  });
});
