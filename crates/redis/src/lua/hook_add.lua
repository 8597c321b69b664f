-- Adds a delivery as its endpoint's newest, unless one of its id is there.
-- The endpoint keeps its newest 10000 deliveries (pending ones beyond that
-- stay until they are settled).
-- KEYS: 1 deliveries hash, 2 pending zset, 3 recent zset, 4 order counter
-- ARGV: 1 delivery id, 2 encoded delivery
-- Returns 1 when added, 0 when it was there.
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then
  return 0
end
local order = redis.call('INCR', KEYS[4])
redis.call('ZADD', KEYS[2], order, ARGV[1])
redis.call('ZADD', KEYS[3], order, ARGV[1])
local old = redis.call('ZRANGE', KEYS[3], 0, -10001)
for _, id in ipairs(old) do
  if not redis.call('ZSCORE', KEYS[2], id) then
    redis.call('HDEL', KEYS[1], id)
    redis.call('ZREM', KEYS[3], id)
  end
end
return 1
