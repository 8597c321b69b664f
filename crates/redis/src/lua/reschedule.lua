-- Puts a claimed entry back for later: acknowledges its message (the next
-- claim's trim removes it), stores the
-- entry with its new attempt count, and schedules it in the retry zset.
-- KEYS: 1 outbox stream, 2 user hash, 3 retry zset, 4 pending entry
-- ARGV: 1 group, 2 message id (or ""), 3 notification id, 4 entry,
--       5 not-before ms, 6 user id
if ARGV[2] ~= '' then
  redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
end
if redis.call('HGET', KEYS[2], 'n') == ARGV[3] then
  redis.call('SET', KEYS[4], ARGV[4])
  redis.call('ZADD', KEYS[3], ARGV[5], ARGV[6])
end
return 1
