-- Lets go of a hold of this fingerprint; answers and other holds stay.
-- KEYS: 1 the key
-- ARGV: 1 fingerprint
-- Returns 1 when released, else 0.
local f, a = unpack(redis.call('HMGET', KEYS[1], 'f', 'a'))
if a or f ~= ARGV[1] then
  return 0
end
redis.call('DEL', KEYS[1])
return 1
