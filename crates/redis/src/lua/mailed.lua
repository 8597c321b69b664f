-- Settles mailed emails of one partition: per email, appends its "code
-- sent" event when the user's sequence is still the expected one (as
-- save.lua does; the record and the rest happen either way), keeps its
-- record (see put_notification.lua for the recipient), acknowledges its
-- message and drops the user's pending entry if it is still this email's.
-- One HMGET and one HSET of the user hash per email.
-- KEYS: 1 outbox stream; then per email its user hash, event list and
--       pending entry (all of one partition); last the webhook stream (see
--       the block at the end)
-- ARGV: 1 group; then per email: message id (or ""), notification id,
--       expected sequence, new sequence, snapshot (or ""), the event, the
--       record's field, recipient, record without recipient, with it
-- Returns per email 1 when its event was appended, 0 when the sequence moved.
local results = {}
local a = 2
for k = 2, #KEYS - 1, 3 do
  local user, log, pending = KEYS[k], KEYS[k + 1], KEYS[k + 2]
  local message, nid, expected, new, snapshot = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4]
  local event, field, recipient, plain, addressed = ARGV[a + 5], ARGV[a + 6], ARGV[a + 7], ARGV[a + 8], ARGV[a + 9]
  a = a + 10
  local stored = redis.call('HMGET', user, 'q', 'n', 'r')
  local fields = {}
  local usual = stored[3]
  if not usual then
    usual = recipient
    table.insert(fields, 'r')
    table.insert(fields, recipient)
  end
  table.insert(fields, field)
  table.insert(fields, usual == recipient and plain or addressed)
  local current = tonumber(stored[1] or '0')
  if current ~= 0 and current == tonumber(expected) then
    table.insert(fields, 'q')
    table.insert(fields, new)
    if snapshot ~= '' then
      table.insert(fields, 's')
      table.insert(fields, snapshot)
      table.insert(fields, 'x')
      table.insert(fields, new)
    end
    redis.call('RPUSH', log, event)
    table.insert(results, 1)
  else
    table.insert(results, 0)
  end
  if current ~= 0 then
    redis.call('HSET', user, unpack(fields))
  end
  if message ~= '' then
    redis.call('XACK', KEYS[1], ARGV[1], message)
  end
  if stored[2] == nid then
    redis.call('HDEL', user, 'n')
    redis.call('DEL', pending)
  end
end

-- Webhooks, a block of its own: the last key is the partition's webhook
-- stream; after the arguments above, ARGV holds per email the number of
-- webhook events it records, then those events (encoded). They join the
-- stream (field e) with its record, in this one atomic write, each with the
-- user's sequence then (field s).
local hooks = KEYS[#KEYS]
for i = 1, #results do
  local n = tonumber(ARGV[a])
  do
    local sequence = n > 0 and (redis.call('HGET', KEYS[3 * i - 1], 'q') or '0') or '0'
    for j = a + 1, a + n do
      redis.call('XADD', hooks, '*', 'e', ARGV[j], 's', sequence)
    end
  end
  a = a + 1 + n
end
return results
