-- How many emails of a partition wait, and the id of the oldest: messages
-- the dispatchers have not read yet (the group's lag) and messages read but
-- not acknowledged (its pending ones). Acknowledged messages may still be
-- in the stream until a claim trims them; they do not count.
-- KEYS: 1 outbox stream   ARGV: 1 group
-- Returns {waiting messages, oldest waiting id or ""}.
local pel = redis.call('XPENDING', KEYS[1], ARGV[1])
local lag, last
for _, group in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local fields = {}
  for j = 1, #group, 2 do
    fields[group[j]] = group[j + 1]
  end
  if fields['name'] == ARGV[1] then
    lag, last = fields['lag'], fields['last-delivered-id']
  end
end
local undelivered = redis.call('XRANGE', KEYS[1], '(' .. (last or '0-0'), '+', 'COUNT', 1)
if type(lag) ~= 'number' then
  lag = #redis.call('XRANGE', KEYS[1], '(' .. (last or '0-0'), '+')
end
local oldest = pel[1] > 0 and pel[2] or (undelivered[1] and undelivered[1][1]) or ''
return { pel[1] + lag, oldest }
