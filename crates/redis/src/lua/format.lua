-- Records the format of the stored values at a store's first start, or
-- reads it back. A store that has partitions but no format was written
-- before formats were recorded, all in format 1; that is recorded now.
-- KEYS: 1 format key, 2 partitions key (both under the meta tag)
-- ARGV: 1 this version's format
-- Returns the format the store holds.
local format = redis.call('GET', KEYS[1])
if format then
  return format
end
if redis.call('EXISTS', KEYS[2]) == 1 then
  format = '1'
else
  format = ARGV[1]
end
redis.call('SET', KEYS[1], format)
return format
