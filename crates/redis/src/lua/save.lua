-- Saves user writes, each atomically and on its own: checks the expected
-- sequence, stores the new one (and the organization, on creation),
-- appends the events and, with an email due, replaces the user's pending
-- outbox entry and announces it on the partition's stream. The due email is
-- also recorded, as queued, among the user's notifications (see
-- put_notification.lua for the recipient).
-- KEYS: 1 outbox stream, 2 retry zset; then per write its user hash, event
--       list and pending entry (all of one partition)
-- ARGV: per write, in turn: the number of its events, expected sequence,
--       new sequence, org id, user id, snapshot (or ""), outbox entry (or
--       ""), notification id (or ""), its field, recipient, queued record
--       without recipient, with it, then its events
-- Returns per write 1 when saved, 0 when the sequence was not the expected one.
local results = {}
local a = 1
for k = 3, #KEYS, 3 do
  local user, log, pending = KEYS[k], KEYS[k + 1], KEYS[k + 2]
  local events = tonumber(ARGV[a])
  local expected, new, org, uid, snapshot = ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], ARGV[a + 5]
  local entry, nid, field, recipient = ARGV[a + 6], ARGV[a + 7], ARGV[a + 8], ARGV[a + 9]
  local plain, addressed = ARGV[a + 10], ARGV[a + 11]
  local first = a + 12
  a = first + events
  local current = tonumber(redis.call('HGET', user, 'q') or '0')
  if current ~= tonumber(expected) then
    table.insert(results, 0)
  else
    if current == 0 then
      redis.call('HSET', user, 'q', new, 'g', org)
    else
      redis.call('HSET', user, 'q', new)
    end
    if snapshot ~= '' then
      redis.call('HSET', user, 's', snapshot, 'x', new)
    end
    for i = first, a - 1 do
      redis.call('RPUSH', log, ARGV[i])
    end
    if nid ~= '' then
      redis.call('SET', pending, entry)
      redis.call('HSETNX', user, 'r', recipient)
      local record = redis.call('HGET', user, 'r') == recipient and plain or addressed
      redis.call('HSET', user, 'n', nid, field, record)
      redis.call('ZREM', KEYS[2], uid)
      redis.call('XADD', KEYS[1], '*', 'u', uid, 'n', nid)
    end
    table.insert(results, 1)
  end
end
return results
