-- Removes settled reminders from a partition's schedule; a bucket emptied
-- leaves the set of buckets. Gone ones are no error.
-- KEYS: 1 the partition's reminder buckets
-- ARGV: per reminder its bucket (ms) and its entry
for j = 1, #ARGV, 2 do
  local list = KEYS[1] .. ':' .. ARGV[j]
  redis.call('LREM', list, 1, ARGV[j + 1])
  if redis.call('LLEN', list) == 0 then
    redis.call('ZREM', KEYS[1], ARGV[j])
  end
end
return 1
