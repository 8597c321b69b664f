-- Settles a partition's due expiries in one atomic write: records the
-- invitation.expired events they gave and drops the expiries, the first ones
-- of their buckets (a bucket emptied leaves the set of buckets).
-- KEYS: 1 the partition's webhook stream, 2 its expiry buckets
-- ARGV: the number of events, the events (encoded), then per bucket its ms
--       and how many of its first users are done
local n = tonumber(ARGV[1])
for j = 2, n + 1 do
  redis.call('XADD', KEYS[1], '*', 'e', ARGV[j], 's', '0')
end
for j = n + 2, #ARGV, 2 do
  local list = KEYS[2] .. ':' .. ARGV[j]
  redis.call('LTRIM', list, tonumber(ARGV[j + 1]), -1)
  if redis.call('LLEN', list) == 0 then
    redis.call('ZREM', KEYS[2], ARGV[j])
  end
end
return n
