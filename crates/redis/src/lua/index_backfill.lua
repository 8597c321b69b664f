-- One step of a scan over the user hashes of one partition, for building
-- the indexes of users written before there were any (see RedisStore::open).
-- KEYS: 1 a key of the partition (it routes the call to the partition's node)
-- ARGV: 1 the scan cursor ("0" to start), 2 the partition's user key prefix
-- Returns {next cursor ("0" at the end), user id, user id, ...}.
local found = redis.call('SCAN', ARGV[1], 'MATCH', ARGV[2] .. '*', 'COUNT', 1000)
local out = { found[1] }
local skip = #ARGV[2]
for _, key in ipairs(found[2]) do
  table.insert(out, string.sub(key, skip + 1))
end
return out
