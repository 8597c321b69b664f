-- Looks an idempotency key up and, when it is free, holds it.
-- Hash fields: f fingerprint; h hold deadline ms (while held); a answer and
-- e its deadline ms (once answered). Deadlines are compared with the
-- caller's clock; the key's own expiry only cleans up.
-- KEYS: 1 the key
-- ARGV: 1 fingerprint, 2 now ms, 3 hold deadline ms, 4 expiry ms
-- Returns {'replay', answer}, {'inflight'}, {'mismatch'} or {'fresh'}.
local now = tonumber(ARGV[2])
local f, h, a, e = unpack(redis.call('HMGET', KEYS[1], 'f', 'h', 'a', 'e'))
if a and tonumber(e) > now then
  if f == ARGV[1] then return { 'replay', a } end
  return { 'mismatch' }
end
if not a and h and tonumber(h) > now then
  if f == ARGV[1] then return { 'inflight' } end
  return { 'mismatch' }
end
-- Absent, or its hold or answer ran out: the key is the caller's now.
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'f', ARGV[1], 'h', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return { 'fresh' }
