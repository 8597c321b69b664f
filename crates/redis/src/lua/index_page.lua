-- The first entries of sorted sets of one partition, merged: for a page of
-- an index (the caller merges the partitions' answers and skips the offset).
-- KEYS: the sorted sets (a user's state index, or all of an organization's)
-- ARGV: 1 how many entries, 2 "1" for ascending scores, else descending
-- Returns {total entries in all KEYS, id, score, id, score, ...} with at
-- most ARGV[1] pairs, in the asked order (ties by id).
local n, asc = tonumber(ARGV[1]), ARGV[2] == '1'
local total = 0
local all = {}
for _, key in ipairs(KEYS) do
  total = total + redis.call('ZCARD', key)
  if n > 0 then
    local range
    if asc then
      range = redis.call('ZRANGE', key, 0, n - 1, 'WITHSCORES')
    else
      range = redis.call('ZRANGE', key, 0, n - 1, 'REV', 'WITHSCORES')
    end
    for i = 1, #range, 2 do
      table.insert(all, { range[i], tonumber(range[i + 1]) })
    end
  end
end
if #KEYS > 1 then
  table.sort(all, function(x, y)
    if x[2] ~= y[2] then
      if asc then return x[2] < y[2] else return x[2] > y[2] end
    end
    if asc then return x[1] < y[1] else return x[1] > y[1] end
  end)
end
local out = { total }
for i = 1, math.min(n, #all) do
  table.insert(out, all[i][1])
  table.insert(out, tostring(all[i][2]))
end
return out
