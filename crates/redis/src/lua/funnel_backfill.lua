-- Counts, once, the funnel's milestones of the users written before the
-- funnel's counts existed (see RedisStore::open): per user, each milestone
-- the node found in its log and records (stored::milestone_code) that its
-- hash's field `f` does not hold yet is counted in its organization's
-- `xs:<org>` (`f<code>`) and added to `f`, as save.lua and
-- put_notification.lua count them; the same count bins the step's duration
-- the node replayed (`h<code><bucket>`, onboard_domain::ports::replay_steps)
-- and keeps the first delivery's or opening's time (`fw`, `fo`) a waiting
-- user's later step is timed from. A write since the caller read the user
-- counted, timed and marked what it reached, so `f` decides and nothing
-- counts or is timed twice, whichever nodes run this at once.
-- KEYS: per user its hash (all of one partition)
-- ARGV: per user the codes of the milestones it reached, their buckets
--       (`<code><bucket>` comma-separated, those timed), then `fw` and `fo`
--       as the replay leaves them (base-36 seconds, or "")
-- Returns how many milestones it counted.
local counted = 0
for i = 1, #KEYS do
  local user = KEYS[i]
  local a = 4 * (i - 1)
  local codes, timed, fw, fo = ARGV[a + 1], ',' .. ARGV[a + 2] .. ',', ARGV[a + 3], ARGV[a + 4]
  local stored = redis.call('HMGET', user, 'g', 'f', 't')
  if stored[1] then
    local marks = stored[2] or ''
    local counts = string.match(user, '^(onb:{[^}]*}:)') .. 'xs:' .. stored[1]
    local fresh = ''
    for code in string.gmatch(codes, '.') do
      if not string.find(marks, code, 1, true) then
        redis.call('HINCRBY', counts, 'f' .. code, 1)
        local bucket = string.match(timed, ',' .. code .. '(%d+),')
        if bucket then
          redis.call('HINCRBY', counts, 'h' .. code .. bucket, 1)
        end
        marks = marks .. code
        fresh = fresh .. code
        counted = counted + 1
      end
    end
    if fresh ~= '' then
      local fields = { 'f', marks }
      -- A time only this count made, for a step still to come.
      local waiting = stored[3] ~= '3' and not string.find(marks, 'k', 1, true)
      if waiting and fw ~= '' and string.find(fresh, 'v', 1, true) and not string.find(marks, 'o', 1, true) then
        table.insert(fields, 'fw')
        table.insert(fields, fw)
      end
      if waiting and fo ~= '' and string.find(fresh, 'o', 1, true) then
        table.insert(fields, 'fo')
        table.insert(fields, fo)
      end
      redis.call('HSET', user, unpack(fields))
    end
  end
end
return counted
