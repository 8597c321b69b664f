-- Records the format of the stored values at a store's first start, or
-- reads it back. A store that has partitions but no format was written
-- before formats were recorded, all in format 1. A store of an older
-- format this version still reads is recorded in this version's format
-- from now on: its values stay readable (they are rewritten as they
-- change), and nodes of older versions refuse to start on it.
-- KEYS: 1 format key, 2 partitions key (both under the meta tag)
-- ARGV: 1 this version's format, 2 the oldest format it reads
-- Returns the format the store holds.
local format = redis.call('GET', KEYS[1])
if not format then
  if redis.call('EXISTS', KEYS[2]) == 1 then
    format = '1'
  else
    format = ARGV[1]
  end
  redis.call('SET', KEYS[1], format)
end
local n = tonumber(format)
if n and n >= tonumber(ARGV[2]) and n < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[1])
  return ARGV[1]
end
return format
