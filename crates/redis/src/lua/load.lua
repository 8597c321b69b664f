-- Reads what users are rebuilt from, each in one consistent view: its
-- sequence, its organization, its snapshot (only a long log has one) and
-- the events after that snapshot (all of them without one).
-- KEYS: per user, its hash and its event list (all of one partition)
-- Returns per user {} when there is none, else
-- {sequence, org id, snapshot or "", event, event, ...}.
local out = {}
for i = 1, #KEYS, 2 do
  local h = redis.call('HMGET', KEYS[i], 'q', 'g', 's', 'x')
  local user = {}
  if h[1] then
    user = { h[1], h[2] or '', h[3] or '' }
    for _, e in ipairs(redis.call('LRANGE', KEYS[i + 1], tonumber(h[4] or '0'), -1)) do
      table.insert(user, e)
    end
  end
  table.insert(out, user)
end
return out
