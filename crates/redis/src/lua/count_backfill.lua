-- Counts, once, the users written before the invitation counts existed
-- (see RedisStore::open): per user, when it is Initial (in `x:<org>:6`) and
-- not counted yet (no field `d` in its hash), it joins its organization's
-- count of its latest email's state, as save.lua would have counted it. A
-- user written since the caller read its records was counted by that write
-- (or left Initial), so `d` decides and nothing counts twice.
-- KEYS: per user its hash (all of one partition)
-- ARGV: per user: the code of its latest email's state
--       (stored::delivery_code), its index id
-- Returns how many users it counted.
local counted = 0
for i = 1, #KEYS do
  local user, code, xid = KEYS[i], ARGV[2 * i - 1], ARGV[2 * i]
  local stored = redis.call('HMGET', user, 'g', 'd')
  if stored[1] and not stored[2] then
    local prefix = string.match(user, '^(onb:{[^}]*}:)')
    if redis.call('ZSCORE', prefix .. 'x:' .. stored[1] .. ':6', xid) then
      redis.call('HINCRBY', prefix .. 'xs:' .. stored[1], 'd' .. code, 1)
      redis.call('HSET', user, 'd', code)
      counted = counted + 1
    end
  end
end
return counted
