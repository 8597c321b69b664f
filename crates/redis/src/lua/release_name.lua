-- Releases a name claim if it is still the given user's.
-- KEYS: 1 name key   ARGV: 1 user id
local value = redis.call('GET', KEYS[1])
if value and string.sub(value, 1, #ARGV[1] + 1) == ARGV[1] .. '|' then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
