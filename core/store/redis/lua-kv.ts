/**
 * Lua scripts of the kv and lock stores. Each runs atomically on the server; times come from the
 * server's `TIME`, so every host sees the same TTLs. The script that writes also publishes the
 * change, so a watcher on any host gets it in the order the writes happened.
 */

/** Epoch ms of the Redis server (frozen for the length of one script). */
export const NOW = `
local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

/**
 * set and cas. KEYS: entry, index, revision counter, expiry zset. ARGV: key, json, ttlMs ('' none),
 * channel, expected version ('' for a plain set), entry key prefix. Returns {1, rev,
 * expiresAt|false} or {0, v, ver, exp}. Each write also drops up to 10 expired keys from the index,
 * so keys written once with a TTL and never listed do not pile up in it.
 */
export const KV_SET = `${NOW}
if ARGV[5] ~= '' then
  local cur = redis.call('HMGET', KEYS[1], 'v', 'ver', 'exp')
  local ver = tonumber(cur[2]) or 0
  if ver ~= tonumber(ARGV[5]) then
    if cur[2] then return {0, cur[1], cur[2], cur[3] or false} end
    return {0}
  end
end
local t = now()
local gone = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', t, 'LIMIT', 0, 10)
for _, k in ipairs(gone) do
  if redis.call('EXISTS', ARGV[6] .. k) == 0 then
    redis.call('ZREM', KEYS[2], k)
    redis.call('ZREM', KEYS[4], k)
  end
end
local rev = redis.call('INCR', KEYS[3])
redis.call('DEL', KEYS[1])
local exp = false
if ARGV[3] ~= '' then
  exp = t + tonumber(ARGV[3])
  redis.call('HSET', KEYS[1], 'v', ARGV[2], 'ver', rev, 'exp', exp)
  redis.call('PEXPIREAT', KEYS[1], exp)
  redis.call('ZADD', KEYS[4], exp, ARGV[1])
else
  redis.call('HSET', KEYS[1], 'v', ARGV[2], 'ver', rev)
  redis.call('ZREM', KEYS[4], ARGV[1])
end
redis.call('ZADD', KEYS[2], 0, ARGV[1])
redis.call('PUBLISH', ARGV[4], cjson.encode({'set', tostring(rev), ARGV[1], ARGV[2]}))
return {1, rev, exp}
`;

/** delete. KEYS: entry, index, revision counter, expiry zset. ARGV: key, channel. Returns the revision, or 0. */
export const KV_DELETE = `
local n = redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
if n == 0 then return 0 end
local rev = redis.call('INCR', KEYS[3])
redis.call('PUBLISH', ARGV[2], cjson.encode({'delete', tostring(rev), ARGV[1]}))
return rev
`;

/**
 * list. KEYS: index, expiry zset. ARGV: entry key prefix, lex min, lex max, how many live entries at most.
 * Index members whose entry expired are dropped on the way. Returns flat {key, v, ver, exp|false}.
 */
export const KV_LIST = `
local out = {}
local want = tonumber(ARGV[4])
local found = 0
local min = ARGV[2]
while found < want do
  local ks = redis.call('ZRANGEBYLEX', KEYS[1], min, ARGV[3], 'LIMIT', 0, want)
  if #ks == 0 then break end
  for _, k in ipairs(ks) do
    local h = redis.call('HMGET', ARGV[1] .. k, 'v', 'ver', 'exp')
    if h[2] then
      out[#out + 1] = k
      out[#out + 1] = h[1]
      out[#out + 1] = h[2]
      out[#out + 1] = h[3] or false
      found = found + 1
      if found >= want then break end
    else
      redis.call('ZREM', KEYS[1], k)
      redis.call('ZREM', KEYS[2], k)
    end
  end
  min = '(' .. ks[#ks]
end
return out
`;

/** A lock's renew. KEYS: lock. ARGV: token, ttlMs. 1 when it was still this token's. */
export const LOCK_RENEW = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`;

/** A lock's release. KEYS: lock. ARGV: token. */
export const LOCK_RELEASE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
`;
