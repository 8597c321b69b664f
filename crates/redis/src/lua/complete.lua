-- Completes claimed entries: acknowledges each one's message and drops its
-- user's pending entry if it is still this one (a newer one stays). The
-- acknowledged messages leave the stream with the next claim's trim.
-- KEYS: 1 outbox stream; then per entry its user hash and pending entry
--       (all of one partition)
-- ARGV: 1 group; then per entry its message id (or "") and notification id
for k = 2, #KEYS, 2 do
  local message, nid = ARGV[k], ARGV[k + 1]
  if message ~= '' then
    redis.call('XACK', KEYS[1], ARGV[1], message)
  end
  if redis.call('HGET', KEYS[k], 'n') == nid then
    redis.call('HDEL', KEYS[k], 'n')
    redis.call('DEL', KEYS[k + 1])
  end
end
return 1
