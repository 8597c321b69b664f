-- Keeps the answer under an idempotency key, unless the key holds a live
-- answer (replays stay the same) or a live hold of another fingerprint.
-- KEYS: 1 the key
-- ARGV: 1 fingerprint, 2 now ms, 3 answer, 4 answer deadline ms, 5 expiry ms
-- Returns 1 when stored, 0 when the key was left alone.
local now = tonumber(ARGV[2])
local f, h, a, e = unpack(redis.call('HMGET', KEYS[1], 'f', 'h', 'a', 'e'))
if a and tonumber(e) > now then
  return 0
end
if not a and h and tonumber(h) > now and f ~= ARGV[1] then
  return 0
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'f', ARGV[1], 'a', ARGV[3], 'e', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
