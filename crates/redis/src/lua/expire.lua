-- Settles a partition's due expiries in one atomic write: records the
-- invitation.expired events they gave and drops the expiries, the first ones
-- of their buckets (a bucket emptied leaves the set of buckets). Each user
-- an event is recorded for is counted expired (field `w` = `e`, its
-- organization's `se` in `xs:<org>`, as save.lua keeps them) if its hash
-- is still at the event's sequence (no write since the node judged it
-- waiting with an expired code; a write since judged it itself, see
-- save.lua) and unmarked (a locked user stays locked; one told twice
-- counts once). The start-up backfill sends marks alone (no events, no
-- buckets), locked ones too.
-- KEYS: 1 the partition's webhook stream, 2 its expiry buckets
-- ARGV: the number of events, the events (encoded), the number of marks,
--       per mark the user id, its sequence and the mark (e or l), then per
--       bucket its ms and how many of its first users are done
-- Returns how many users it marked.
local n = tonumber(ARGV[1])
for j = 2, n + 1 do
  redis.call('XADD', KEYS[1], '*', 'e', ARGV[j], 's', '0')
end
local prefix = string.match(KEYS[1], '^(onb:{[^}]*}:)')
local marks = tonumber(ARGV[n + 2])
local marked = 0
for j = n + 3, n + 2 + 3 * marks, 3 do
  local user = prefix .. 'u:' .. ARGV[j]
  local stored = redis.call('HMGET', user, 'q', 'g', 'w', 't')
  if stored[1] == ARGV[j + 1] and stored[2] and not stored[3] and stored[4] ~= '3' then
    redis.call('HSET', user, 'w', ARGV[j + 2])
    redis.call('HINCRBY', prefix .. 'xs:' .. stored[2], 's' .. ARGV[j + 2], 1)
    marked = marked + 1
  end
end
for j = n + 3 + 3 * marks, #ARGV, 2 do
  local list = KEYS[2] .. ':' .. ARGV[j]
  redis.call('LTRIM', list, tonumber(ARGV[j + 1]), -1)
  if redis.call('LLEN', list) == 0 then
    redis.call('ZREM', KEYS[2], ARGV[j])
  end
end
return marked
