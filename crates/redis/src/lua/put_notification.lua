-- Stores a notification record in its user's hash, replacing the record of
-- the same id. Field 'r' holds the user's usual recipient: the first one
-- recorded, never changed after. A record to that address leaves it out,
-- which keeps a sent record (with the provider's message id) within
-- hash-max-listpack-value, 64 bytes by default, and so the whole user hash
-- a compact listpack.
-- KEYS: 1 user hash
-- ARGV: 1 field, 2 recipient, 3 record without recipient, 4 record with it
redis.call('HSETNX', KEYS[1], 'r', ARGV[2])
if redis.call('HGET', KEYS[1], 'r') == ARGV[2] then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[4])
end
return 1
