-- Claims a user name for a user id (value "id|claimed-at-ms").
-- KEYS: 1 name key
-- ARGV: 1 user id, 2 now ms, 3 (optional) the stale value to take over
-- Returns "ok" when the name is now the caller's, else the current value.
local value = redis.call('GET', KEYS[1])
if not value or (ARGV[3] and value == ARGV[3]) then
  redis.call('SET', KEYS[1], ARGV[1] .. '|' .. ARGV[2])
  return 'ok'
end
if string.sub(value, 1, #ARGV[1] + 1) == ARGV[1] .. '|' then
  return 'ok'
end
return value
