-- Stores notification records in their users' hashes, each replacing the
-- record of the same id. Field 'r' holds a user's usual recipient: the
-- first one recorded, never changed after. A record to that address leaves
-- it out, which keeps a sent record (with the provider's message id) within
-- hash-max-listpack-value, 64 bytes by default, and so the whole user hash
-- a compact listpack.
-- KEYS: per record its user hash (all of one partition); last the webhook
--       stream (see the block at the end)
-- ARGV: per record: field, recipient, record without recipient, with it
for i = 1, #KEYS - 1 do
  local user = KEYS[i]
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
local a = 4 * (#KEYS - 1) + 1

-- Webhooks, a block of its own: the last key is the partition's webhook
-- stream; after the arguments above, ARGV holds per record the number of
-- webhook events it records, then those events (encoded). They join the
-- stream (field e) with it, in this one atomic write, each with the user's
-- sequence then (field s).
local hooks = KEYS[#KEYS]
for i = 1, #KEYS - 1 do
  local n = tonumber(ARGV[a])
  do
    local sequence = n > 0 and (redis.call('HGET', KEYS[i], 'q') or '0') or '0'
    for j = a + 1, a + n do
      redis.call('XADD', hooks, '*', 'e', ARGV[j], 's', sequence)
    end
  end
  a = a + 1 + n
end
return #KEYS - 1
