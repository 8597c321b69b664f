-- Counts, once, the funnel's milestones of the users written before the
-- funnel's counts existed (see RedisStore::open): per user, each milestone
-- the node found in its log and records (stored::milestone_code) that its
-- hash's field `f` does not hold yet is counted in its organization's
-- `xs:<org>` (`f<code>`) and added to `f`, as save.lua and
-- put_notification.lua count them. A write since the caller read the user
-- counted what it reached and marked it, so `f` decides and nothing counts
-- twice, whichever nodes run this at once.
-- KEYS: per user its hash (all of one partition)
-- ARGV: per user the codes of the milestones it reached
-- Returns how many milestones it counted.
local counted = 0
for i = 1, #KEYS do
  local user = KEYS[i]
  local stored = redis.call('HMGET', user, 'g', 'f')
  if stored[1] then
    local marks = stored[2] or ''
    local prefix = string.match(user, '^(onb:{[^}]*}:)')
    for code in string.gmatch(ARGV[i], '.') do
      if not string.find(marks, code, 1, true) then
        redis.call('HINCRBY', prefix .. 'xs:' .. stored[1], 'f' .. code, 1)
        marks = marks .. code
        counted = counted + 1
      end
    end
    if marks ~= (stored[2] or '') then
      redis.call('HSET', user, 'f', marks)
    end
  end
end
return counted
