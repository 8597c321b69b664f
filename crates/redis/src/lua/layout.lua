-- Records which layout of the user keys this Redis holds, or reads it back.
-- A store that has partitions but no layout was written before layouts were
-- recorded: layout 1 (user snapshot in the user hash, notifications in a
-- hash of their own).
-- KEYS: 1 layout key, 2 partitions key (both under the meta tag)
-- ARGV: 1 this version's layout
-- Returns the layout the store holds.
local layout = redis.call('GET', KEYS[1])
if layout then
  return layout
end
if redis.call('EXISTS', KEYS[2]) == 1 then
  return '1'
end
redis.call('SET', KEYS[1], ARGV[1])
return ARGV[1]
