-- Settles mailed emails of one partition: per email, appends its "code
-- sent" event when the user's sequence is still the expected one (as
-- save.lua does; the record and the rest happen either way), keeps its
-- record (see put_notification.lua for the recipient), acknowledges its
-- message and drops the user's pending entry if it is still this email's.
-- One HMGET and one HSET of the user hash per email. When the record is
-- its user's latest email (as put_notification.lua judges it) and the user
-- Initial, the user's invitation count moves to the record's state (see
-- save.lua). A user whose code the node saw expired at the settling
-- (`e`, passed) is marked and counted expired as save.lua does, when the
-- event is appended and the user unmarked: the event moves the sequence
-- expire.lua checks, so this write judges the mark itself.
-- KEYS: 1 outbox stream; then per email its user hash, event list and
--       pending entry (all of one partition); last the webhook stream (see
--       the block at the end)
-- ARGV: 1 group; then per email: message id (or ""), notification id,
--       expected sequence, new sequence, snapshot (or ""), the event, the
--       record's field, recipient, record without recipient, with it, the
--       code of its state (stored::delivery_code), the user's index id,
--       `e` when the user's code is expired (or "")
-- Returns per email 1 when its event was appended, 0 when the sequence moved.
-- Whether decimal id `a` is newer than `b`.
local function newer(a, b)
  return #a > #b or (#a == #b and a > b)
end

local results = {}
local a = 2
for k = 2, #KEYS - 1, 3 do
  local user, log, pending = KEYS[k], KEYS[k + 1], KEYS[k + 2]
  local message, nid, expected, new, snapshot = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4]
  local event, field, recipient, plain, addressed = ARGV[a + 5], ARGV[a + 6], ARGV[a + 7], ARGV[a + 8], ARGV[a + 9]
  local code, xid, expired = ARGV[a + 10], ARGV[a + 11], ARGV[a + 12]
  a = a + 13
  local stored = redis.call('HMGET', user, 'q', 'n', 'r', 'g', 'd', 'w')
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
    if expired == 'e' and stored[4] and not stored[6] then
      redis.call('HINCRBY', string.match(user, '^(onb:{[^}]*}:)') .. 'xs:' .. stored[4], 'se', 1)
      table.insert(fields, 'w')
      table.insert(fields, 'e')
    end
    table.insert(results, 1)
  else
    table.insert(results, 0)
  end
  -- The latest email: the pending one, or with none pending no newer record.
  local latest = stored[4] and current ~= 0 and (stored[2] == nid or not stored[2])
  if latest and not stored[2] then
    for _, f in ipairs(redis.call('HKEYS', user)) do
      if string.sub(f, 1, 1) == '#' and newer(string.sub(f, 2), nid) then
        latest = false
        break
      end
    end
  end
  if latest and stored[5] ~= code then
    local prefix = string.match(user, '^(onb:{[^}]*}:)')
    if redis.call('ZSCORE', prefix .. 'x:' .. stored[4] .. ':6', xid) then
      local counts = prefix .. 'xs:' .. stored[4]
      if stored[5] then
        redis.call('HINCRBY', counts, 'd' .. stored[5], -1)
      end
      redis.call('HINCRBY', counts, 'd' .. code, 1)
      table.insert(fields, 'd')
      table.insert(fields, code)
    end
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
