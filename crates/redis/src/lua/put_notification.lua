-- Stores notification records in their users' hashes, each replacing the
-- record of the same id. Field 'r' holds a user's usual recipient: the
-- first one recorded, never changed after. A record to that address leaves
-- it out, which keeps a sent record (with the provider's message id) within
-- hash-max-listpack-value, 64 bytes by default, and so the whole user hash
-- a compact listpack.
-- KEYS: per record its user hash (all of one partition)
-- ARGV: per record: field, recipient, record without recipient, with it
for i, user in ipairs(KEYS) do
  local a = 4 * (i - 1)
  local usual = redis.call('HGET', user, 'r')
  if not usual then
    redis.call('HSET', user, 'r', ARGV[a + 2], ARGV[a + 1], ARGV[a + 3])
  elseif usual == ARGV[a + 2] then
    redis.call('HSET', user, ARGV[a + 1], ARGV[a + 3])
  else
    redis.call('HSET', user, ARGV[a + 1], ARGV[a + 4])
  end
end
return #KEYS
