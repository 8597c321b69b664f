-- A chunk of an organization's users in one partition: the members of its
-- state indexes from a position on (state by state, by rank), for scans
-- that read every user of the organization.
-- KEYS: the organization's state indexes in the partition, in a fixed order
-- ARGV: 1 the index to start in (1-based), 2 the rank to start at, 3 how many
-- Returns {next index, next rank, id, id, ...}; next index 0 at the end.
local k, rank, count = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local out = { 0, 0 }
while k <= #KEYS and count > 0 do
  local ids = redis.call('ZRANGE', KEYS[k], rank, rank + count - 1)
  for _, id in ipairs(ids) do
    table.insert(out, id)
  end
  count = count - #ids
  if count > 0 then
    k, rank = k + 1, 0
  else
    rank = rank + #ids
  end
end
if k <= #KEYS then
  out[1], out[2] = k, rank
end
return out
