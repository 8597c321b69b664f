-- Shared by save.lua and put_notification.lua, which the store loads with
-- this prelude before them (a script cannot load another).

-- onboard_domain::ports::duration_bucket: four buckets per doubling of
-- seconds + 1, linear within it (integers only, exact in a double).
local function duration_bucket(seconds)
  local n = math.max(seconds, 0) + 1
  local k, p = 0, 1
  while p * 2 <= n do
    p = p * 2
    k = k + 1
  end
  return 4 * k + math.floor((n - p) * 4 / p)
end

-- A step's time as the user hash keeps it: whole seconds in base 36.
local function base36(n)
  local digits, s = '0123456789abcdefghijklmnopqrstuvwxyz', ''
  repeat
    local d = n % 36
    s = string.sub(digits, d + 1, d + 1) .. s
    n = math.floor(n / 36)
  until n == 0
  return s
end

