// Owns the counting semaphore replicas share in Redis, for the blob transfers at once per registry host:
// a sorted set of holders scored by lease expiry, so a replica that dies frees its slots within a lease.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { SharedSlots } from '../copy/shared-slots.js';
import { systemClock } from '../oci/clock.js';
import { luaScript, runScript, withTimeout } from './connection.js';

/** A held slot is renewed this often; one not renewed for LEASE_MS is somebody's who died. */
const LEASE_MS = 30_000;
const RENEW_MS = 10_000;
const POLL_MS = 50;
const REDIS_TIMEOUT_MS = 2_000;

// On Redis' clock. KEYS: the holders set. ARGV: token, limit, lease (ms). 1 = taken.
const ACQUIRE = luaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]) * 2)
return 1
`);
const RENEW = luaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
  return 1
end
return 0
`);

export class RedisTransferSlots implements SharedSlots {
  constructor(
    private readonly client: Redis,
    private readonly onError: (message: string) => void = () => undefined,
  ) {}

  async acquire(host: string, limit: number): Promise<() => Promise<void>> {
    const key = `slots:${host}`;
    const token = randomBytes(12).toString('hex');
    for (;;) {
      let taken: unknown;
      try {
        taken = await withTimeout(
          runScript(this.client, ACQUIRE, [key], [token, limit, LEASE_MS]),
          REDIS_TIMEOUT_MS,
          `taking a transfer slot on ${host}`,
        );
      } catch (error) {
        // Redis away: the in-process cap still holds; waiting on Redis would stall every copy.
        this.onError(`${(error as Error).message}; transferring under this replica's own cap`);
        return async () => undefined;
      }
      if (Number(taken) === 1) break;
      await systemClock.sleep(POLL_MS);
    }
    const renewal = setInterval(() => {
      runScript(this.client, RENEW, [key], [token, LEASE_MS]).catch((error: Error) =>
        this.onError(`renewing a transfer slot on ${host}: ${error.message}`),
      );
    }, RENEW_MS);
    renewal.unref();
    return async () => {
      clearInterval(renewal);
      await withTimeout(this.client.zrem(key, token), REDIS_TIMEOUT_MS, `freeing a transfer slot on ${host}`).catch(
        () => undefined,
      );
    };
  }
}
