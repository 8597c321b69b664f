-- Saves a user write atomically: checks the expected sequence, stores the
-- snapshot, appends the events and, with an email due, replaces the user's
-- pending outbox entry and announces it on the partition's stream.
-- The due email is also recorded, as queued, in the user's notifications.
-- KEYS: 1 user hash, 2 event list, 3 outbox stream, 4 retry zset, 5 notifications hash
-- ARGV: 1 expected sequence, 2 new sequence, 3 snapshot, 4 user id,
--       5 outbox entry (or ""), 6 notification id (or ""),
--       7 queued notification record (or ""), 8.. events
local current = tonumber(redis.call('HGET', KEYS[1], 'q') or '0')
if current ~= tonumber(ARGV[1]) then
  return 0
end
redis.call('HSET', KEYS[1], 'q', ARGV[2], 's', ARGV[3])
for i = 8, #ARGV do
  redis.call('RPUSH', KEYS[2], ARGV[i])
end
if ARGV[6] ~= '' then
  redis.call('HSET', KEYS[1], 'o', ARGV[5], 'n', ARGV[6])
  redis.call('ZREM', KEYS[4], ARGV[4])
  redis.call('XADD', KEYS[3], '*', 'u', ARGV[4], 'n', ARGV[6])
  redis.call('HSET', KEYS[5], ARGV[6], ARGV[7])
end
return 1
