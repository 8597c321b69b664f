-- Stores notification records in their users' hashes, each replacing the
-- record of the same id. Field 'r' holds a user's usual recipient: the
-- first one recorded, never changed after. A record to that address leaves
-- it out, which keeps a sent record (with the provider's message id) within
-- hash-max-listpack-value, 64 bytes by default, and so the whole user hash
-- a compact listpack.
--
-- The invitations' index of exceptional deliveries follows: when the record
-- is its user's latest email (no pending email of another id, and no
-- notification field of a newer id: ids are decimal and made in time
-- order), an Initial user (in `x:<org>:6`) joins `xe:<org>` (scored by its
-- creation ms) if the record's state is exceptional (bounced, dropped, spam
-- reported, failed) and leaves it otherwise. So do the invitation counts
-- `xs:<org>` (see save.lua): the latest record of an Initial user moves the
-- user's count (field `d` of its hash) to the record's state.
-- The funnel's delivered milestone (see save.lua) follows any record in
-- state delivered, the latest email or not: the first one counts the user
-- (`fv` in `xs:<org>`) and adds `v` to its field `f`; later ones change
-- nothing. That first count also times the step from the creation (the
-- user's score in `x:<org>:6`) to the record's time when the user is
-- waiting (`hv<bucket>` in `xs:<org>`, see save.lua), and keeps the
-- delivery's time (`fw`, base-36 seconds) for timing the opening unless
-- the link was opened already.
-- KEYS: per record its user hash (all of one partition); last the webhook
--       stream (see the block at the end)
-- ARGV: per record: field, recipient, record without recipient, with it,
--       whether its state is exceptional (1 or 0), the user's index id, the
--       code of its state (stored::delivery_code), the record's time (ms)

-- stored::delivery_code(Delivered) and stored::milestone_code(Delivered).
local DELIVERED = 'd'

-- duration_bucket and base36: the durations.lua prelude.

-- Whether decimal id `a` is newer than `b`.
local function newer(a, b)
  return #a > #b or (#a == #b and a > b)
end

for i = 1, #KEYS - 1 do
  local user = KEYS[i]
  local a = 8 * (i - 1)
  local usual = redis.call('HGET', user, 'r')
  if not usual then
    redis.call('HSET', user, 'r', ARGV[a + 2], ARGV[a + 1], ARGV[a + 3])
  elseif usual == ARGV[a + 2] then
    redis.call('HSET', user, ARGV[a + 1], ARGV[a + 3])
  else
    redis.call('HSET', user, ARGV[a + 1], ARGV[a + 4])
  end
  local nid, xid = string.sub(ARGV[a + 1], 2), ARGV[a + 6]
  local stored = redis.call('HMGET', user, 'g', 'n', 'f')
  if stored[1] and ARGV[a + 7] == DELIVERED and not string.find(stored[3] or '', 'v', 1, true) then
    local prefix = string.match(user, '^(onb:{[^}]*}:)')
    local counts = prefix .. 'xs:' .. stored[1]
    local marks = (stored[3] or '') .. 'v'
    local fields = { 'f', marks }
    redis.call('HINCRBY', counts, 'fv', 1)
    local created = redis.call('ZSCORE', prefix .. 'x:' .. stored[1] .. ':6', xid)
    if created then
      local now = math.floor(tonumber(ARGV[a + 8]) / 1000)
      redis.call('HINCRBY', counts, 'hv' .. duration_bucket(now - math.floor(tonumber(created) / 1000)), 1)
      if not string.find(marks, 'o', 1, true) then
        table.insert(fields, 'fw')
        table.insert(fields, base36(now))
      end
    end
    redis.call('HSET', user, unpack(fields))
  end
  local latest = stored[1] and (not stored[2] or stored[2] == nid)
  if latest then
    for _, field in ipairs(redis.call('HKEYS', user)) do
      if string.sub(field, 1, 1) == '#' and newer(string.sub(field, 2), nid) then
        latest = false
        break
      end
    end
  end
  if latest then
    local prefix = string.match(user, '^(onb:{[^}]*}:)')
    local exceptions = prefix .. 'xe:' .. stored[1]
    local created = redis.call('ZSCORE', prefix .. 'x:' .. stored[1] .. ':6', xid)
    if created and ARGV[a + 5] == '1' then
      redis.call('ZADD', exceptions, created, xid)
    else
      redis.call('ZREM', exceptions, xid)
    end
    local code = ARGV[a + 7]
    local counted = redis.call('HGET', user, 'd')
    if created and counted ~= code then
      local counts = prefix .. 'xs:' .. stored[1]
      if counted then
        redis.call('HINCRBY', counts, 'd' .. counted, -1)
      end
      redis.call('HINCRBY', counts, 'd' .. code, 1)
      redis.call('HSET', user, 'd', code)
    end
  end
end
local a = 8 * (#KEYS - 1) + 1

-- Webhooks, a block of its own: the last key is the partition's webhook
-- stream; after the arguments above, ARGV holds per record the number of
-- webhook events it records, then those events (encoded). They join the
-- stream (field e) with it, in this one atomic write, each with the user's
-- sequence then (field s).
local hooks = KEYS[#KEYS]
for i = 1, #KEYS - 1 do
  local n = tonumber(ARGV[a])
  do
    local sequence = n > 0 and (redis.call('HGET', KEYS[i], 'q') or '0') or '0'
    for j = a + 1, a + n do
      redis.call('XADD', hooks, '*', 'e', ARGV[j], 's', sequence)
    end
  end
  a = a + 1 + n
end
return #KEYS - 1
