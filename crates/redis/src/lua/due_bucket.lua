-- A partition's earliest due bucket of a per-second schedule (the webhook
-- expiries, the reminders), for the holder of the schedule's lease (taken
-- or extended as lease.lua does).
-- KEYS: 1 the lease, 2 the partition's buckets (zset of bucket ms; each
--       bucket's entries are the list at that key, ':', the bucket's ms)
-- ARGV: 1 holder, 2 lease (ms), 3 now (ms), 4 limit
-- Returns the bucket's ms and up to limit of its first entries; 0 and none
-- when nothing is due or another node holds the lease.
local held = redis.call('GET', KEYS[1])
if held and held ~= ARGV[1] then
  return {0, {}}
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[3], 'LIMIT', 0, 1)
if #due == 0 then
  return {0, {}}
end
return {tonumber(due[1]), redis.call('LRANGE', KEYS[2] .. ':' .. due[1], 0, tonumber(ARGV[4]) - 1)}
