/**
 * Lua scripts, each run atomically by Redis. Every key a script touches shares one hash tag
 * (`{tokenwell:…}`), so they run on Redis Cluster too.
 */

/**
 * Writes the entry and, when there is one, the refresh token in one step: no process ever
 * reads a new access token next to a spent refresh token.
 * KEYS: token, refresh. ARGV: entry, entry TTL (ms), refresh value or '', refresh TTL (ms).
 */
export const SET_ENTRY = `
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if ARGV[3] ~= '' then redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4]) end
return 1`

/**
 * Deletes the entry only if it still holds the token with this fingerprint (kept in clear next
 * to the possibly encrypted entry). KEYS: token. ARGV: fingerprint. Returns 1 when it deleted.
 */
export const COMPARE_AND_DELETE = `
local value = redis.call('GET', KEYS[1])
if not value then return 0 end
local ok, envelope = pcall(cjson.decode, value)
if ok and type(envelope) == 'table' and envelope.fp == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0`

/**
 * Releases the fetch lock only if it still holds this process's fencing value: a holder whose
 * lock expired never releases the lock another process has taken since. KEYS: lock. ARGV: fence.
 */
export const RELEASE_LOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`
