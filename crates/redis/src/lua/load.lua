-- Reads what a user is rebuilt from, in one consistent view: its sequence,
-- its organization, its snapshot (only a long log has one) and the events
-- after that snapshot (all of them without one).
-- KEYS: 1 user hash, 2 event list
-- Returns {} when there is no user, else
-- {sequence, org id, snapshot or "", event, event, ...}.
local h = redis.call('HMGET', KEYS[1], 'q', 'g', 's', 'x')
if not h[1] then
  return {}
end
local out = { h[1], h[2] or '', h[3] or '' }
for _, e in ipairs(redis.call('LRANGE', KEYS[2], tonumber(h[4] or '0'), -1)) do
  table.insert(out, e)
end
return out
