/**
 * Lua scripts of the queue store. One queue lives under a base key B:
 *   B..'i:'..id   hash of one item: p payload, st state (q due or delayed, w waiting behind its
 *                 group's head, l leased, a acked, d dead), a attempts, e enqueuedAt, due, m
 *                 member, g group, err, tok lease token, res result, end, ret retainMs, n the
 *                 enqueuing call's nonce
 *   B..'due'      zset of items handed out by lease, by due time (ready and delayed alike)
 *   B..'leased'   zset by lease end;  B..'dead' zset by death;  B..'live' zset by enqueue time
 *   B..'g:'..name list of a group's ids in enqueue order; only its head is in 'due'
 * Members are a 15-digit sequence number then the id, so items due in the same ms go out in
 * enqueue order. KEYS[1] is always B.
 */
import { NOW } from './lua-kv';

const COMMON = `${NOW}
local B = KEYS[1]
local function idOf(m) return string.sub(m, 16) end
local function advance(g, id)
  if not g then return end
  local gk = B .. 'g:' .. g
  redis.call('LREM', gk, 1, id)
  local nxt = redis.call('LINDEX', gk, 0)
  if not nxt then return end
  local nk = B .. 'i:' .. nxt
  local h = redis.call('HMGET', nk, 'st', 'due', 'm')
  if h[1] == 'w' then
    redis.call('HSET', nk, 'st', 'q')
    redis.call('ZADD', B .. 'due', h[2], h[3])
  end
end
`;

/**
 * enqueue, many at once (the writes of one batch share one AOF fsync). KEYS: the queue set.
 * ARGV: groups of 8: base, id, payload, delayMs, group ('' none), retainMs, queue name, nonce.
 * Returns one 1 (written, or already written by this very call resent) or 0 (duplicate) per item.
 */
export const Q_ENQUEUE = `${NOW}
local t = now()
local out = {}
for j = 1, #ARGV, 8 do
  local B, id = ARGV[j], ARGV[j + 1]
  local ik = B .. 'i:' .. id
  local seen = redis.call('HGET', ik, 'n')
  if seen then
    if seen == ARGV[j + 7] then out[#out + 1] = 1 else out[#out + 1] = 0 end
  else
    local seq = redis.call('INCR', B .. 'seq')
    local m = string.format('%015d', seq) .. id
    local due = t + tonumber(ARGV[j + 3])
    local st = 'q'
    if ARGV[j + 4] ~= '' then
      if redis.call('RPUSH', B .. 'g:' .. ARGV[j + 4], id) > 1 then st = 'w' end
      redis.call('HSET', ik, 'g', ARGV[j + 4])
    end
    redis.call('HSET', ik, 'p', ARGV[j + 2], 'st', st, 'a', 0, 'e', t, 'due', due, 'm', m, 'ret', ARGV[j + 5], 'n', ARGV[j + 7])
    redis.call('ZADD', B .. 'live', t, m)
    if st == 'q' then redis.call('ZADD', B .. 'due', due, m) end
    redis.call('SADD', KEYS[1], ARGV[j + 6])
    out[#out + 1] = 1
  end
end
return out
`;

/**
 * lease. KEYS: base. ARGV: n, leaseMs, then n tokens. Expired leases are made due first (at the
 * time they expired). Returns flat {id, token, payload, attempts, enqueuedAt, leaseUntil, group, err}.
 */
export const Q_LEASE = `${COMMON}
local t = now()
local expired = redis.call('ZRANGEBYSCORE', B .. 'leased', '-inf', t, 'WITHSCORES', 'LIMIT', 0, 1000)
for i = 1, #expired, 2 do
  local m, s = expired[i], expired[i + 1]
  local ik = B .. 'i:' .. idOf(m)
  redis.call('HSET', ik, 'st', 'q', 'err', 'lease expired', 'due', s)
  redis.call('HDEL', ik, 'tok')
  redis.call('ZREM', B .. 'leased', m)
  redis.call('ZADD', B .. 'due', s, m)
end
local untilMs = t + tonumber(ARGV[2])
local ms = redis.call('ZRANGEBYSCORE', B .. 'due', '-inf', t, 'LIMIT', 0, tonumber(ARGV[1]))
local out = {}
for i, m in ipairs(ms) do
  local id = idOf(m)
  local ik = B .. 'i:' .. id
  local a = redis.call('HINCRBY', ik, 'a', 1)
  redis.call('HSET', ik, 'st', 'l', 'tok', ARGV[2 + i], 'due', untilMs)
  redis.call('ZREM', B .. 'due', m)
  redis.call('ZADD', B .. 'leased', untilMs, m)
  local h = redis.call('HMGET', ik, 'p', 'e', 'g', 'err')
  for _, v in ipairs({id, ARGV[2 + i], h[1], a, h[2], untilMs, h[3] or false, h[4] or false}) do out[#out + 1] = v end
end
return out
`;

/**
 * extend, ack, retry and dead under a lease. KEYS: base. ARGV: id, token, op (x a r d), arg
 * (leaseMs, result json or '', delayMs, error), error (for r). 0 when the lease is not live.
 */
export const Q_SETTLE = `${COMMON}
local id, op = ARGV[1], ARGV[3]
local ik = B .. 'i:' .. id
local h = redis.call('HMGET', ik, 'st', 'tok', 'due', 'm', 'g', 'ret')
local t = now()
if h[1] ~= 'l' or h[2] ~= ARGV[2] or tonumber(h[3]) <= t then return 0 end
local m = h[4]
if op == 'x' then
  local u = t + tonumber(ARGV[4])
  redis.call('HSET', ik, 'due', u)
  redis.call('ZADD', B .. 'leased', u, m)
  return u
end
redis.call('ZREM', B .. 'leased', m)
redis.call('HDEL', ik, 'tok')
if op == 'r' then
  local due = t + tonumber(ARGV[4])
  redis.call('HSET', ik, 'st', 'q', 'err', ARGV[5], 'due', due)
  redis.call('ZADD', B .. 'due', due, m)
  return 1
end
redis.call('ZREM', B .. 'live', m)
advance(h[5], id)
if op == 'd' then
  redis.call('HSET', ik, 'st', 'd', 'err', ARGV[4], 'end', t)
  redis.call('ZADD', B .. 'dead', t, m)
  return 1
end
if tonumber(h[6]) > 0 then
  redis.call('HSET', ik, 'st', 'a', 'end', t)
  if ARGV[4] ~= '' then redis.call('HSET', ik, 'res', ARGV[4]) end
  redis.call('PEXPIRE', ik, h[6])
else
  redis.call('DEL', ik)
end
return 1
`;

/** get. KEYS: base. ARGV: id. Returns {now, field, value, ...} or {} when absent. */
export const Q_GET = `${NOW}
local h = redis.call('HGETALL', KEYS[1] .. 'i:' .. ARGV[1])
if #h == 0 then return {} end
table.insert(h, 1, now())
return h
`;

/** remove. KEYS: base. ARGV: id. 1 when there was an item. */
export const Q_REMOVE = `${COMMON}
local id = ARGV[1]
local ik = B .. 'i:' .. id
local h = redis.call('HMGET', ik, 'st', 'm', 'g')
if not h[1] then return 0 end
for _, z in ipairs({'due', 'leased', 'live', 'dead'}) do redis.call('ZREM', B .. z, h[2]) end
redis.call('DEL', ik)
advance(h[3], id)
return 1
`;

/**
 * dead letters after a cursor. KEYS: base. ARGV: cursor score ('' from the start), cursor
 * sequence, how many. Returns flat {member, deadAt, payload, attempts, enqueuedAt, err, group}.
 */
export const Q_DEAD_LIST = `${COMMON}
local want = tonumber(ARGV[3])
local cs, cq = tonumber(ARGV[1]), tonumber(ARGV[2])
local min = '-inf'
if cs then min = cs end
local out, found, off = {}, 0, 0
while found < want do
  local r = redis.call('ZRANGEBYSCORE', B .. 'dead', min, '+inf', 'WITHSCORES', 'LIMIT', off, 200)
  if #r == 0 then break end
  for i = 1, #r, 2 do
    local m, s = r[i], tonumber(r[i + 1])
    if not cs or s > cs or tonumber(string.sub(m, 1, 15)) > cq then
      local h = redis.call('HMGET', B .. 'i:' .. idOf(m), 'p', 'a', 'e', 'err', 'g')
      for _, v in ipairs({m, s, h[1], h[2], h[3], h[4] or '', h[5] or false}) do out[#out + 1] = v end
      found = found + 1
      if found >= want then break end
    end
  end
  off = off + 200
end
return out
`;

/**
 * list. KEYS: base. ARGV: state flags (r ready, y delayed, l leased, d dead: 'd' alone walks the
 * dead set, anything else the live one), cursor score and member ('' from the start), limit.
 * Returns now, 1 when more may follow, the last member looked at (score, member), then per match
 * its member and its hash as a flat list. Looks at 5,000 members at most per call.
 */
export const Q_LIST = `${NOW}
local B = KEYS[1]
local flags, cs, cm, want = ARGV[1], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local t = now()
local z = 'live'
if flags == 'd' then z = 'dead' end
local min = '-inf'
if cs then min = cs end
local out, found, off, seen, more = {}, 0, 0, 0, 0
local lastS, lastM = '', ''
while more == 0 do
  local r = redis.call('ZRANGEBYSCORE', B .. z, min, '+inf', 'WITHSCORES', 'LIMIT', off, 200)
  if #r == 0 then break end
  for i = 1, #r, 2 do
    local m, sc = r[i], tonumber(r[i + 1])
    if not cs or sc > cs or m > cm then
      if found >= want or seen >= 5000 then more = 1; break end
      seen = seen + 1
      lastS, lastM = r[i + 1], m
      local h = redis.call('HGETALL', B .. 'i:' .. string.sub(m, 16))
      local st, due = nil, nil
      for j = 1, #h, 2 do
        if h[j] == 'st' then st = h[j + 1] elseif h[j] == 'due' then due = tonumber(h[j + 1]) end
      end
      local f = 'r'
      if st == 'd' then f = 'd' elseif st == 'q' and due > t then f = 'y' elseif st == 'l' and due > t then f = 'l' end
      if string.find(flags, f, 1, true) then
        out[#out + 1] = m
        out[#out + 1] = h
        found = found + 1
      end
    end
  end
  off = off + 200
end
local head = {t, more, lastS, lastM}
for i = 1, #out do head[#head + 1] = out[i] end
return head
`;

/** replay. KEYS: base. ARGV: id. A dead letter becomes due now (behind its group's items). */
export const Q_REPLAY = `${COMMON}
local id = ARGV[1]
local ik = B .. 'i:' .. id
local h = redis.call('HMGET', ik, 'st', 'm', 'g', 'e')
if h[1] ~= 'd' then return 0 end
local t = now()
redis.call('ZREM', B .. 'dead', h[2])
redis.call('HDEL', ik, 'end')
redis.call('HSET', ik, 'st', 'q', 'a', 0, 'due', t)
redis.call('ZADD', B .. 'live', h[4], h[2])
if h[3] and redis.call('RPUSH', B .. 'g:' .. h[3], id) > 1 then
  redis.call('HSET', ik, 'st', 'w')
else
  redis.call('ZADD', B .. 'due', t, h[2])
end
return 1
`;

/** purge. KEYS: base. ARGV: id ('' for up to 1000 of all). Returns how many went. */
export const Q_PURGE = `${COMMON}
if ARGV[1] ~= '' then
  local ik = B .. 'i:' .. ARGV[1]
  local h = redis.call('HMGET', ik, 'st', 'm')
  if h[1] ~= 'd' then return 0 end
  redis.call('ZREM', B .. 'dead', h[2])
  redis.call('DEL', ik)
  return 1
end
local ms = redis.call('ZRANGE', B .. 'dead', 0, 999)
for _, m in ipairs(ms) do
  redis.call('DEL', B .. 'i:' .. idOf(m))
  redis.call('ZREM', B .. 'dead', m)
end
return #ms
`;

/** stats. KEYS: base. Returns {ready, delayed, leased, dead, oldestAgeMs}. */
export const Q_STATS = `${NOW}
local B = KEYS[1]
local t = now()
local dueNow = redis.call('ZCOUNT', B .. 'due', '-inf', t)
local delayed = redis.call('ZCOUNT', B .. 'due', '(' .. t, '+inf')
local leasedAll = redis.call('ZCARD', B .. 'leased')
local lapsed = redis.call('ZCOUNT', B .. 'leased', '-inf', t)
local live = redis.call('ZCARD', B .. 'live')
local waiting = live - dueNow - delayed - leasedAll
local oldest = redis.call('ZRANGE', B .. 'live', 0, 0, 'WITHSCORES')
local age = 0
if oldest[2] then age = t - tonumber(oldest[2]) end
return {dueNow + lapsed + waiting, delayed, leasedAll - lapsed, redis.call('ZCARD', B .. 'dead'), age}
`;
