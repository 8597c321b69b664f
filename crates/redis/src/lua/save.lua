-- Saves user writes, each atomically and on its own: checks the expected
-- sequence, stores the new one (and the organization, on creation),
-- appends the events and, with an email due, replaces the user's pending
-- outbox entry and announces it on the partition's stream. The due email is
-- also recorded, as queued, among the user's notifications (see
-- put_notification.lua for the recipient).
-- KEYS: 1 outbox stream, 2 retry zset; then per write its user hash, event
--       list and pending entry (all of one partition); last the webhook
--       stream (see the block at the end)
-- ARGV: per write, in turn: the number of its events, expected sequence,
--       new sequence, org id, user id, snapshot (or ""), outbox entry (or
--       ""), notification id (or ""), its field, recipient, queued record
--       without recipient, with it, then its events
-- Returns per write 1 when saved, 0 when the sequence was not the expected one.
local results = {}
local a = 1
for k = 3, #KEYS - 1, 3 do
  local user, log, pending = KEYS[k], KEYS[k + 1], KEYS[k + 2]
  local events = tonumber(ARGV[a])
  local expected, new, org, uid, snapshot = ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], ARGV[a + 5]
  local entry, nid, field, recipient = ARGV[a + 6], ARGV[a + 7], ARGV[a + 8], ARGV[a + 9]
  local plain, addressed = ARGV[a + 10], ARGV[a + 11]
  local first = a + 12
  a = first + events
  local stored = redis.call('HMGET', user, 'q', 'r')
  local current = tonumber(stored[1] or '0')
  if current ~= tonumber(expected) then
    table.insert(results, 0)
  else
    -- One HSET for every field the write sets, one RPUSH for its events:
    -- each call a script makes costs about as much as a small command.
    local fields = { 'q', new }
    if current == 0 then
      table.insert(fields, 'g')
      table.insert(fields, org)
    end
    if snapshot ~= '' then
      table.insert(fields, 's')
      table.insert(fields, snapshot)
      table.insert(fields, 'x')
      table.insert(fields, new)
    end
    if nid ~= '' then
      local usual = stored[2]
      if not usual then
        usual = recipient
        table.insert(fields, 'r')
        table.insert(fields, recipient)
      end
      table.insert(fields, 'n')
      table.insert(fields, nid)
      table.insert(fields, field)
      table.insert(fields, usual == recipient and plain or addressed)
    end
    redis.call('HSET', user, unpack(fields))
    if events > 0 then
      redis.call('RPUSH', log, unpack(ARGV, first, a - 1))
    end
    if nid ~= '' then
      redis.call('SET', pending, entry)
      redis.call('ZREM', KEYS[2], uid)
      redis.call('XADD', KEYS[1], '*', 'u', uid, 'n', nid)
    end
    table.insert(results, 1)
  end
end

-- Webhooks, a block of its own: the last key is the partition's webhook
-- stream; after the arguments above, ARGV holds per write the number of
-- webhook events it records, then those events (encoded). They join the
-- stream (field e) with the write when it is saved, in this one atomic
-- write, each with the user's sequence then (field s).
local hooks = KEYS[#KEYS]
for i = 1, #results do
  local n = tonumber(ARGV[a])
  if results[i] == 1 then
    local sequence = n > 0 and (redis.call('HGET', KEYS[3 * i], 'q') or '0') or '0'
    for j = a + 1, a + n do
      redis.call('XADD', hooks, '*', 'e', ARGV[j], 's', sequence)
    end
  end
  a = a + 1 + n
end
return results
