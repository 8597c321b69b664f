-- A token's record and its account, in one round trip (read on every call).
-- KEYS[1] tokens, KEYS[2] token → account id, KEYS[3] accounts (one slot: {dir}).
-- ARGV[1] the token digest (hex).
local record = redis.call('HGET', KEYS[1], ARGV[1])
if not record then
  return false
end
local account = false
local id = redis.call('HGET', KEYS[2], ARGV[1])
if id then
  account = redis.call('HGET', KEYS[3], id)
end
return { record, account }
