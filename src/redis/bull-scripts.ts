// The Lua scripts the Redis queue runs atomically on its de-duplication keys.

// Compare-and-set: a replica replaces the key's job only if no other replica replaced it first.
export const SWAP = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2]) end
  return 1 end
return 0`;
// Called when a job is final: a success keeps answering duplicates for a while, a failure stops at once.
export const SETTLE = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  if ARGV[2] == '0' then redis.call('DEL', KEYS[1]) else redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
end
return 0`;
