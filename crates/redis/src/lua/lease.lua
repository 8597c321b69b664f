-- Takes or extends a lease: nobody holds it, or the holder does.
-- KEYS: 1 the lease
-- ARGV: 1 holder, 2 how long (ms)
-- Returns 1 when the holder now holds it, 0 when another does.
local held = redis.call('GET', KEYS[1])
if not held or held == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
