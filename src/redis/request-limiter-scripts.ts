// Owns the Lua scripts behind the shared request limiter (request-limiter.ts) and the numbers they run on: the
// token bucket and grant log that every replica asks on Redis' clock, and the slow-down a 429/503 applies to all.
import { luaScript } from './connection.js';

// Idle state is dropped after this; a registry not asked for ten minutes starts again at the full rate.
export const STATE_TTL_MS = 10 * 60 * 1000;

/**
 * The grant log's window: a second, plus a margin for the time between a grant on Redis and the request's
 * arrival at the registry, which varies by replica (one granted late in its window may arrive with the next
 * window's first). The registry counts arrivals; without the margin it saw rate + 1 in a second.
 */
export const WINDOW_US = 1_200_000;
/**
 * A grant whose answer took longer than this to reach the replica (a busy event loop, a slow network) is not
 * used: the request would leave late and could reach the registry next to the next window's first. Its token
 * is given up and another asked for. Together with the window's margin this keeps the registry's count of
 * arrivals in any second at or under the rate (on a loaded 2-core machine, 1.15 s alone let 11 of 10 through).
 */
export const STALE_GRANT_MS = 100;

// Two rules, both on Redis' clock (TIME, in microseconds) so the replicas' clocks do not matter:
// - a token bucket (rate, capacity `burst`) spaces requests out, and lets a short stall be made up;
// - a log of the grants of the last window (WINDOW_US) caps it at the rate, whatever the bucket allows.
// Each call takes a token or says how long until one is due; nothing is reserved, so a slowDown in between
// applies at once. KEYS: state hash, grant log. ARGV: configured rate, burst, successes since this replica's
// last call, state TTL (ms), window (µs).
export const TAKE = luaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local configured = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local successes = math.min(tonumber(ARGV[3]), 100000)
local s = redis.call('HMGET', KEYS[1], 'tokens', 'ts', 'rate', 'pause')
local rate = math.min(tonumber(s[3]) or configured, configured)
while successes > 0 and rate < configured do
  rate = rate + 1 / rate
  successes = successes - 1
end
rate = math.min(rate, configured)
local limit = math.max(1, math.floor(rate))
local capacity = math.min(burst, limit)
local tokens = tonumber(s[1]) or capacity
local ts = tonumber(s[2]) or now
if now > ts then tokens = tokens + (now - ts) * rate / 1000000 end
tokens = math.min(tokens, capacity)
local pause = tonumber(s[4]) or 0
local wait = 0
if now < pause then
  wait = pause - now
else
  local window = tonumber(ARGV[5])
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - window)
  if redis.call('ZCARD', KEYS[2]) >= limit then
    local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
    wait = math.max(1, tonumber(oldest[2]) + window - now)
    -- Tokens saved up meanwhile would all go the moment the window has room: let one be due then, not a burst.
    tokens = math.min(tokens, 1 - wait * rate / 1000000)
  end
  if tokens < 1 then wait = math.max(wait, (1 - tokens) * 1000000 / rate) end
  if wait == 0 then
    tokens = tokens - 1
    redis.call('ZADD', KEYS[2], now, redis.call('HINCRBY', KEYS[1], 'seq', 1))
    redis.call('PEXPIRE', KEYS[2], math.ceil(window / 1000) * 2)
  end
end
redis.call('HSET', KEYS[1], 'tokens', tokens, 'ts', now, 'rate', rate)
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[4]) + math.ceil(math.max(0, pause - now) / 1000))
return {math.ceil(wait), tostring(rate)}
`);

// A 429/503 pauses everyone and halves the shared rate below what was sent in the last second; answers to
// requests already in flight (from any replica) report the same overload, so it halves at most once a second.
// KEYS: state hash, grant log. ARGV: configured rate, pause (ms), state TTL (ms).
export const SLOW_DOWN = luaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local configured = tonumber(ARGV[1])
local s = redis.call('HMGET', KEYS[1], 'tokens', 'rate', 'pause', 'slowed')
local rate = math.min(tonumber(s[2]) or configured, configured)
local pause = math.max(tonumber(s[3]) or 0, now + tonumber(ARGV[2]) * 1000)
local slowed = tonumber(s[4])
if slowed == nil or now - slowed >= 1000000 or now < slowed then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - 1000000)
  local sent = redis.call('ZCARD', KEYS[2])
  rate = math.max(1, math.min(rate, math.max(sent, 1)) / 2)
  slowed = now
  if (tonumber(s[1]) or 0) > 1 then redis.call('HSET', KEYS[1], 'tokens', 1) end
end
redis.call('HSET', KEYS[1], 'rate', rate, 'pause', pause, 'slowed', slowed)
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]) + math.ceil((pause - now) / 1000))
return tostring(rate)
`);
