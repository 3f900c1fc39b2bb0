// Owns reading a RedisURL and rendering it without its password. Part of the configuration, so that it can
// check the URL without loading ioredis; the Redis client (redis/connection.ts) reads it from here.

export interface ParsedRedisUrl {
  tls: boolean;
  host: string;
  port: number;
  username?: string;
  password?: string;
  db: number;
}

const FORM = 'redis://[[user]:password@]host[:port][/db] or rediss://...';

/** Reads a RedisURL; errors never repeat the URL, since it may hold a password. */
export function parseRedisUrl(url: string): ParsedRedisUrl {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`RedisURL is not a URL; expected ${FORM}`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new Error(`RedisURL must start with redis:// or rediss://, not ${parsed.protocol}//`);
  }
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) throw new Error(`RedisURL has no host; expected ${FORM}`);
  const port = parsed.port ? Number(parsed.port) : 6379;
  const dbText = parsed.pathname.replace(/^\//, '');
  if (dbText !== '' && !/^\d+$/.test(dbText))
    throw new Error(`RedisURL database must be a number (/0, /1, ...), not /${dbText}`);
  const { username, password } = credentials(parsed);
  return { tls: parsed.protocol === 'rediss:', host, port, username, password, db: dbText === '' ? 0 : Number(dbText) };
}

// A lone user part (redis://secret@host) is a password, as ioredis and redis-cli read it.
function credentials(parsed: URL): { username?: string; password?: string } {
  const user = decodeURIComponent(parsed.username);
  const password = decodeURIComponent(parsed.password);
  if (password) return { username: user || undefined, password };
  if (user) return { password: user };
  return {};
}

/** The URL as it may appear in logs: scheme, user, host, port and db, with any password replaced by ***. */
export function maskRedisUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '(a RedisURL that is not a URL)';
  }
  const { username, password } = credentials(parsed);
  const userinfo = password ? `${username ? encodeURIComponent(username) : ''}:***@` : '';
  const params = [...parsed.searchParams].map(
    ([name, value]) => `${name}=${/pass|secret|token|auth/i.test(name) ? '***' : value}`,
  );
  const query = params.length > 0 ? `?${params.join('&')}` : '';
  const path = parsed.pathname && parsed.pathname !== '/' ? parsed.pathname : '';
  return `${parsed.protocol}//${userinfo}${parsed.host}${path}${query}`;
}
