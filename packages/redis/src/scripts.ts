/**
 * Lua scripts, each run atomically by Redis. Every key a script touches shares one hash tag
 * (`{tokenwell:…}`), so they run on Redis Cluster too.
 */

/**
 * Writes the entry and, when there is one, the refresh token in one step: no process ever
 * reads a new access token next to a spent refresh token. Every argument is checked before
 * anything is written (a script is not rolled back when a later command fails). With a fence,
 * it writes only if no process took the lease after the one that holds this fence, or if the
 * refresh token this writer redeemed is still the one marked as being redeemed: a holder that
 * stalled past its lease still stores the only answer its redemption can have (the process that
 * took over never redeems a marked refresh token, and waits for that answer). The write clears
 * that mark. KEYS: token, refresh, fence, redeeming. ARGV: entry, entry TTL (ms), refresh value
 * or '', refresh TTL (ms), fence or '', the writer's mark or ''. Returns 1 when it wrote, 0 when
 * fenced out.
 */
export const SET_ENTRY = `
local ttl = tonumber(ARGV[2])
local refreshTtl = tonumber(ARGV[4])
if not ttl or ttl < 1 or ttl % 1 ~= 0 then return redis.error_reply('ERR tokenwell: bad entry ttl') end
if ARGV[3] ~= '' and (not refreshTtl or refreshTtl < 1 or refreshTtl % 1 ~= 0) then
  return redis.error_reply('ERR tokenwell: bad refresh ttl')
end
local marked = ARGV[6] ~= '' and redis.call('GET', KEYS[4]) == ARGV[6]
if ARGV[5] ~= '' and redis.call('GET', KEYS[3]) ~= ARGV[5] and not marked then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if ARGV[3] ~= '' then redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4]) end
if marked then redis.call('DEL', KEYS[4]) end
return 1`

/**
 * Takes the fetch lock and, with it, the next fencing number. KEYS: lock, fence, redeeming.
 * ARGV: owner, lock TTL (ms), fence TTL (ms). Returns the fence and the refresh-token mark a
 * previous holder left ('' when none), or nil when another process holds the lock.
 */
export const ACQUIRE_LOCK = `
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return false end
local fence = redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return {tostring(fence), redis.call('GET', KEYS[3]) or ''}`

/**
 * Marks (or, with '', clears) the fingerprint of the refresh token the holder is about to
 * redeem, if this owner still holds the lock. KEYS: lock, redeeming. ARGV: owner, fingerprint
 * or '', mark TTL (ms). Returns 1, or 0 when the lock is no longer this owner's.
 */
export const MARK_REDEEMING = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[2]) else redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3]) end
return 1`

/** Extends the lock if this owner still holds it. KEYS: lock. ARGV: owner, TTL (ms). Returns 1 or 0. */
export const EXTEND_LOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`

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
 * Releases the fetch lock only if it still holds this process's owner value: a holder whose
 * lock expired never releases the lock another process has taken since. KEYS: lock. ARGV: owner.
 */
export const RELEASE_LOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`
