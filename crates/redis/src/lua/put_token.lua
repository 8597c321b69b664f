-- Stores a token's record and which account it authenticates as (the
-- record is opaque to Lua; credentials.lua reads the account through this).
-- KEYS: 1 tokens, 2 token → account id (one slot: {dir})
-- ARGV: 1 the token digest (hex), 2 the record, 3 the account id
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
return 1
