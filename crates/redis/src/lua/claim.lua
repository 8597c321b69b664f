-- Claims due outbox entries of one partition for this consumer.
-- Order: retries whose time has come go back on the stream; then messages a
-- blocking read already handed to this consumer; then messages whose
-- consumer stayed idle past the lease (a dead node's); then new messages.
-- Messages whose entry was superseded (the user's pending notification id
-- differs) or completed are acknowledged, never returned. Acknowledged
-- messages leave the stream in whole nodes, trimmed below the oldest one
-- still pending or not yet delivered: far cheaper than deleting each.
-- KEYS: 1 outbox stream, 2 retry zset
-- ARGV: 1 group, 2 consumer, 3 limit, 4 lease ms, 5 now ms,
--       6 user key prefix, 7 pending entry key prefix,
--       8.. message ids handed over by a blocking read
-- Returns: flat list of message id, entry, the user's sequence, message id,
-- entry, sequence, ...
local limit = tonumber(ARGV[3])
local prefix, pending = ARGV[6], ARGV[7]

local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[5], 'LIMIT', 0, limit)
for _, uid in ipairs(due) do
  redis.call('ZREM', KEYS[2], uid)
  local nid = redis.call('HGET', prefix .. uid, 'n')
  if nid then
    redis.call('XADD', KEYS[1], '*', 'u', uid, 'n', nid)
  end
end

local messages, seen = {}, {}
local function take(m)
  if m and m[2] and not seen[m[1]] then
    seen[m[1]] = true
    table.insert(messages, m)
  end
end
for i = 8, #ARGV do
  take(redis.call('XRANGE', KEYS[1], ARGV[i], ARGV[i])[1])
end
local reclaimed = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[4], '0-0', 'COUNT', limit)
for _, m in ipairs(reclaimed[2]) do
  take(m)
end
if #messages < limit then
  local fresh = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', limit - #messages, 'STREAMS', KEYS[1], '>')
  if fresh then
    for _, m in ipairs(fresh[1][2]) do
      take(m)
    end
  end
end

local out = {}
for _, m in ipairs(messages) do
  local id, fields = m[1], m[2]
  local uid, nid
  for j = 1, #fields, 2 do
    if fields[j] == 'u' then uid = fields[j + 1] elseif fields[j] == 'n' then nid = fields[j + 1] end
  end
  local user = uid and redis.call('HMGET', prefix .. uid, 'n', 'q')
  local entry = user and user[1] == nid and redis.call('GET', pending .. uid)
  if entry then
    table.insert(out, id)
    table.insert(out, entry)
    table.insert(out, user[2])
  else
    redis.call('XACK', KEYS[1], ARGV[1], id)
  end
end

-- Exactly when nothing is pending (the partition is idle: the entries go
-- for good), in whole nodes otherwise (cheap under load).
local floor, how = nil, '~'
local pel = redis.call('XPENDING', KEYS[1], ARGV[1])
if pel[1] > 0 then
  floor = pel[2]
else
  how = '='

  for _, group in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
    for j = 1, #group, 2 do
      if group[j] == 'name' and group[j + 1] ~= ARGV[1] then break end
      if group[j] == 'last-delivered-id' then
        -- Everything delivered goes, the last one too (a single entry would
        -- keep its whole node of the stream).
        local ms, seq = string.match(group[j + 1], '^(%d+)-(%d+)$')
        floor = ms and (ms .. '-' .. string.format('%d', tonumber(seq) + 1))
      end
    end
  end
end
if floor then
  redis.call('XTRIM', KEYS[1], 'MINID', how, floor)
end
return out
