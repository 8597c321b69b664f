-- Stores a delivery as it now stands: a pending one keeps its place (or,
-- pending again, goes after every pending one); any other leaves the pending.
-- KEYS: 1 deliveries hash, 2 pending zset, 3 recent zset, 4 order counter
-- ARGV: 1 delivery id, 2 encoded delivery, 3 "1" when it is pending
local was = redis.call('ZSCORE', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if ARGV[3] == '1' then
  if not was then
    local order = redis.call('INCR', KEYS[4])
    redis.call('ZADD', KEYS[2], order, ARGV[1])
    redis.call('ZADD', KEYS[3], order, ARGV[1])
  end
else
  redis.call('ZREM', KEYS[2], ARGV[1])
end
return 1
