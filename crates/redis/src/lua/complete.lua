-- Completes a claimed entry: acknowledges its message and drops the user's
-- pending entry if it is still this one (a newer one stays).
-- KEYS: 1 outbox stream, 2 user hash, 3 pending entry
-- ARGV: 1 group, 2 message id (or ""), 3 notification id
if ARGV[2] ~= '' then
  redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
  redis.call('XDEL', KEYS[1], ARGV[2])
end
if redis.call('HGET', KEYS[2], 'n') == ARGV[3] then
  redis.call('HDEL', KEYS[2], 'n')
  redis.call('DEL', KEYS[3])
end
return 1
