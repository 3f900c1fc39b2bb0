// The configuration keys, each declared once: name, group, kind with bounds and default, secret flag, one line
// of documentation. The parser reads through this table; the test keeping app.conf.example and the README in
// step reads it too. Keys marked perDestination are declared once and read under a prefix per destination.
import { bool, choice, custom, duration, endpoint, int, num, oneOf, pem, text, type KeySpec } from './kinds.js';
import { parseBandwidth } from './bandwidth.js';
import { parseDestinationNames } from './destination-names.js';
import { projectRules } from './filter-keys.js';
import { parseNamespaceMap } from './namespace-map.js';
import { isKnownRegion, SWR_REGIONS } from './regions.js';
import { tokenRealmHosts } from './token-realm-hosts.js';
import { parseRedisUrl } from './redis-url.js';

const HOST_PORT = /^[A-Za-z0-9.-]+(:\d{1,5})?$/;
const old = 'old tool';
const service = 'service';
const remote = 'harbor and destination';
const replicas = 'replicas';

// Declared in the order SECRET_KEYS has always listed the secrets in (the start-up log names them).
export const CONFIG_KEYS = {
  // The old tool's keys (same names, same meaning).
  ImageOverwrite: bool('false', { group: old, doc: 'replace an SWR tag that points at a different image' }),
  NamespaceMap: custom(
    {
      group: old,
      doc: 'harbor_project:swr_namespace pairs separated by ";"; more destinations after ",": region/namespace, name/namespace',
    },
    (v, _name, problems) => parseNamespaceMap(v, problems),
  ),
  // Required unless SWRUser gives a registry login of its own: readDestination says so when it is missing.
  HWAuthMethod: choice(['AKSK', 'Password'], {
    group: old,
    doc: 'AKSK (HWAK, HWSK) or Password (HWDomain, HWUser, HWPassword)',
    perDestination: true,
  }),
  HWAK: text({ group: old, doc: 'Huawei Cloud access key', perDestination: true }),
  HWSK: text({ group: old, doc: 'Huawei Cloud secret key', secret: true, perDestination: true }),
  HWDomain: text({ group: old, doc: 'Huawei Cloud account', perDestination: true }),
  HWUser: text({ group: old, doc: 'IAM user (empty: the account itself)', perDestination: true }),
  HWPassword: text({ group: old, doc: 'password of HWUser', secret: true, perDestination: true }),
  RegionName: custom(
    {
      group: old,
      doc: 'the region SWR serves from',
      perDestination: true,
      missing: `one of ${SWR_REGIONS.join(', ')}`,
    },
    (v, name, problems) => {
      if (v !== undefined && !isKnownRegion(v))
        problems.push(`${name} "${v}" is not a region SWR serves; use one of ${SWR_REGIONS.join(', ')}`);
      return v;
    },
  ),
  HarborAddr: custom(
    {
      group: old,
      doc: "Harbor's host or IP with :port, no scheme, no path",
      missing: 'the Harbor host name or IP, with :port if not the default (e.g. harbor.example.com)',
    },
    (v, name, problems) => {
      if (v !== undefined && !HOST_PORT.test(v) && !/^\[[0-9a-fA-F:]+\](:\d{1,5})?$/.test(v)) {
        problems.push(
          `${name} must be a host name or IP with an optional :port, without scheme or path (got "${v}"); put http/https in HarborProtocol`,
        );
      }
      return v;
    },
  ),
  HarborProtocol: oneOf(['http', 'https'], 'https', { group: old, doc: "Harbor's scheme" }),
  HarborUser: text({ group: old, doc: 'a Harbor account that can read the mapped projects' }),
  HarborPassword: text({ group: old, doc: 'its password', secret: true }),

  // Harbor and the destination.
  HarborAPI: oneOf(['auto', 'v2', 'v1', 'registry'], 'auto', {
    group: remote,
    doc: "which source API: Harbor's v2.0, v1, or a plain registry",
  }),
  HarborCACert: pem({ group: remote, doc: 'a PEM file with a private CA Harbor is trusted by' }),
  HarborInsecure: bool('false', { group: remote, doc: "skip verifying Harbor's TLS certificate" }),
  TokenRealmHosts: custom(
    { group: remote, doc: 'token services on other hosts that may receive credentials' },
    (v, _name, problems) => tokenRealmHosts(v, problems),
  ),
  SWRRegistry: custom(
    { group: remote, doc: "the destination registry host (default: the region's SWR host)", perDestination: true },
    (v, name, problems) => {
      if (v !== undefined && !HOST_PORT.test(v))
        problems.push(`${name} must be a host name with an optional :port (got "${v}")`);
      return v;
    },
  ),
  SWRProtocol: oneOf(['http', 'https'], 'https', {
    group: remote,
    doc: "the destination's scheme",
    perDestination: true,
  }),
  SWRUser: text({ group: remote, doc: 'a registry login instead of the one derived from HW*', perDestination: true }),
  SWRPassword: text({ group: remote, doc: 'its password', secret: true, perDestination: true }),
  SWRCACert: pem({
    group: remote,
    doc: 'a PEM file with a private CA the destination is trusted by',
    perDestination: true,
  }),
  SWRInsecure: bool('false', {
    group: remote,
    doc: "skip verifying the destination's TLS certificate",
    perDestination: true,
  }),
  SWRManageNamespaces: bool('true', {
    group: remote,
    doc: 'create missing SWR namespaces before the first push',
    perDestination: true,
  }),
  SWRApiEndpoint: endpoint({ group: remote, doc: "SWR's API (default: the region's)", perDestination: true }),
  IAMEndpoint: endpoint({ group: remote, doc: "IAM's API (default: the region's)", perDestination: true }),
  Destinations: custom(
    { group: remote, doc: 'named destinations, comma-separated; each has its keys under its name: dr_RegionName, ...' },
    parseDestinationNames,
  ),
  ManifestFormat: oneOf(['auto', 'preserve', 'docker'], 'auto', {
    group: remote,
    doc: 'convert OCI to Docker v2: when refused, never, always',
  }),
  CopySignatures: bool('true', { group: remote, doc: 'also copy signatures, SBOMs and other referrers' }),
  IncludeRepositories: custom(
    { group: remote, doc: 'per project, the repositories synced: project:pattern;... (see Filters)' },
    projectRules('IncludeRepositories'),
  ),
  ExcludeRepositories: custom(
    { group: remote, doc: 'per project, repositories never synced: project:pattern;...' },
    projectRules('ExcludeRepositories'),
  ),
  IncludeTags: custom(
    { group: remote, doc: 'per project, the tags synced: project:pattern;...' },
    projectRules('IncludeTags'),
  ),
  ExcludeTags: custom(
    { group: remote, doc: 'per project, tags never synced: project:pattern;...' },
    projectRules('ExcludeTags'),
  ),
  IncludeLabels: custom(
    { group: remote, doc: 'per project, a label an artifact must have (Harbor 2.x): project:pattern;...' },
    projectRules('IncludeLabels'),
  ),
  ExcludeLabels: custom(
    {
      group: remote,
      doc: 'per project, a label that keeps an artifact from being synced (Harbor 2.x): project:pattern;...',
    },
    projectRules('ExcludeLabels'),
  ),
  Proxy: text({
    group: remote,
    // Not a secret key: its password is (the redactor gets it from ProxyRoutes.secrets), as RedisURL's is.
    doc: 'the proxy of every outbound connection, http://[user:password@]host:port (default: HTTPS_PROXY, HTTP_PROXY)',
  }),
  NoProxy: text({
    group: remote,
    doc: 'hosts reached without the proxy: names, .domains, IPs, CIDRs, *, each with an optional :port (default: NO_PROXY)',
  }),
  MaxImagesInFlight: int('4', 1, 64, { group: remote, doc: 'images copied at once per job' }),
  MaxBlobTransfers: int('8', 1, 20, { group: remote, doc: 'blob transfers at once per registry' }),
  SWRRequestsPerSecond: num('20', 0, {
    group: remote,
    doc: 'request rate to the destination (0: unlimited)',
    perDestination: true,
  }),
  HarborRequestsPerSecond: num('0', 0, { group: remote, doc: 'request rate to Harbor (0: unlimited)' }),
  MaxBandwidth: custom(
    { group: remote, doc: 'blob bytes per second for the whole deployment, e.g. 20MB/s (0: unlimited)', default: '0' },
    (v, name, problems) => {
      const read = parseBandwidth(v!, name);
      if ('problem' in read) problems.push(read.problem);
      return 'bytesPerSecond' in read ? read.bytesPerSecond : 0;
    },
  ),

  // The service.
  Port: int('5000', 1, 65535, { group: service, doc: 'the HTTP port' }),
  ListenAddress: text({ group: service, doc: 'the address the service listens on' }, '0.0.0.0'),
  MaxConnectionsPerClient: int('64', 0, 100_000, {
    group: service,
    doc: 'connections at once from one client address (0: no cap)',
  }),
  LogDir: text({ group: service, doc: 'where the log files go' }, '/var/log/swr_harbor_sync'),
  LogFormat: oneOf(['text', 'json'], 'text', {
    group: service,
    doc: 'text for people, json (one object per line) for log shippers',
  }),
  LogMaxSizeMB: int('100', 0, 100_000, { group: service, doc: 'a log file past this size is rotated (0: never)' }),
  LogMaxFiles: int('5', 1, 1000, { group: service, doc: 'log files kept in all' }),
  DataDir: text({ group: service, doc: 'the SQLite job store' }, './data'),
  JobRetentionDays: int('7', 1, 3650, { group: service, doc: 'finished jobs kept at most this many days' }),
  JobRetentionCount: int('10000', 1, 10_000_000, { group: service, doc: 'and at most this many' }),
  WebhookAuthHeader: text({ group: service, doc: "the Authorization value Harbor's webhook must send", secret: true }),
  ApiToken: text({ group: service, doc: 'the Bearer token of the API and the status page', secret: true }),
  AllowHeaderCredentials: bool('true', { group: service, doc: 'the old call may bring credentials in headers' }),
  MaxConcurrentJobs: int('2', 1, 64, { group: service, doc: 'jobs run at once per replica' }),
  JobRetries: int('5', 0, 100, { group: service, doc: 'retries of a failed job' }),
  WebhookCoalesceMs: int('2000', 0, 600_000, {
    group: service,
    doc: 'how long an untagged push waits for the rest of its burst',
  }),
  ReconcileInterval: duration('15m', {
    group: service,
    doc: 'how often the sweep compares Harbor with the destination (0: off)',
  }),
  ReconcileOnStart: bool('false', { group: service, doc: 'also sweep once at start' }),
  SyncDeletes: bool('false', {
    group: service,
    doc: "Harbor's delete events delete at the destination the tags the service wrote for that digest",
  }),
  ReconcileDeletes: bool('false', { group: service, doc: 'the sweep also deletes written tags Harbor no longer has' }),
  ShutdownGraceSeconds: int('30', 0, 3600, { group: service, doc: 'on SIGTERM, how long running copies get' }),

  // Several replicas.
  QueueBackend: oneOf(['sqlite', 'redis'], 'sqlite', {
    group: replicas,
    doc: 'sqlite (one instance) or redis (replicas share the jobs)',
  }),
  RedisURL: custom(
    { group: replicas, doc: 'redis://[[user]:password@]host[:port][/db]; its password is never logged' },
    (v, _name, problems) => {
      if (v === undefined) return undefined;
      try {
        parseRedisUrl(v); // its messages never repeat the URL, which may hold a password
      } catch (error) {
        problems.push((error as Error).message);
      }
      return v;
    },
  ),
  RedisKeyPrefix: custom(
    { group: replicas, doc: 'keys of this deployment start with it', default: 'shs' },
    (v, name, problems) => {
      if (!/^[A-Za-z0-9_.-]{1,32}$/.test(v!))
        problems.push(`${name} must be 1 to 32 letters, digits, _ . or -, got "${v}"`);
      return v!;
    },
  ),
  JobLockSeconds: int('30', 5, 600, { group: replicas, doc: "how long a dead replica's job stays locked" }),
  Replicas: int('3', 1, 64, { group: replicas, doc: 'replicas sharing SWRRequestsPerSecond while Redis is away' }),
} satisfies Record<string, KeySpec<unknown>>;

export type ConfigKey = keyof typeof CONFIG_KEYS;
export type DestinationKey = {
  [K in ConfigKey]: (typeof CONFIG_KEYS)[K] extends { perDestination: true } ? K : never;
}[ConfigKey];
export type DestinationKeys = Pick<typeof CONFIG_KEYS, DestinationKey>;

/** The keys that repeat per destination, read again under each name of Destinations (`dr_RegionName`, ...). */
export const DESTINATION_KEYS = Object.fromEntries(
  Object.entries(CONFIG_KEYS).filter(([, spec]) => 'perDestination' in spec && spec.perDestination),
) as DestinationKeys;

/** Keys whose values are secrets: never logged, never echoed in an error. */
export const SECRET_KEYS: readonly ConfigKey[] = Object.entries(CONFIG_KEYS)
  .filter(([, spec]) => 'secret' in spec && spec.secret)
  .map(([name]) => name as ConfigKey);
