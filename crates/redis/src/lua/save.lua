-- Saves a user write atomically: checks the expected sequence, stores the
-- new one (and the organization, on creation), appends the events and, with
-- an email due, replaces the user's pending outbox entry and announces it on
-- the partition's stream. The due email is also recorded, as queued, among
-- the user's notifications (see put_notification.lua for the recipient).
-- KEYS: 1 user hash, 2 event list, 3 outbox stream, 4 retry zset,
--       5 pending entry
-- ARGV: 1 expected sequence, 2 new sequence, 3 org id, 4 user id,
--       5 snapshot (or ""),
--       6 outbox entry (or ""), 7 notification id (or ""), 8 its field,
--       9 recipient, 10 queued record without recipient, 11 with it,
--       12.. events
local current = tonumber(redis.call('HGET', KEYS[1], 'q') or '0')
if current ~= tonumber(ARGV[1]) then
  return 0
end
if current == 0 then
  redis.call('HSET', KEYS[1], 'q', ARGV[2], 'g', ARGV[3])
else
  redis.call('HSET', KEYS[1], 'q', ARGV[2])
end
if ARGV[5] ~= '' then
  redis.call('HSET', KEYS[1], 's', ARGV[5], 'x', ARGV[2])
end
for i = 12, #ARGV do
  redis.call('RPUSH', KEYS[2], ARGV[i])
end
if ARGV[7] ~= '' then
  redis.call('SET', KEYS[5], ARGV[6])
  redis.call('HSETNX', KEYS[1], 'r', ARGV[9])
  local record = redis.call('HGET', KEYS[1], 'r') == ARGV[9] and ARGV[10] or ARGV[11]
  redis.call('HSET', KEYS[1], 'n', ARGV[7], ARGV[8], record)
  redis.call('ZREM', KEYS[4], ARGV[4])
  redis.call('XADD', KEYS[3], '*', 'u', ARGV[4], 'n', ARGV[7])
end
return 1
