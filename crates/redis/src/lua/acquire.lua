-- Charges every limit once, all or none. Each limit is checked against the
-- state the limits before it would leave (so a key named twice is charged
-- twice); the first without room is returned and nothing is written.
-- Times are the caller's clock (ms), never Redis TIME: nodes agree on the
-- domain's clock, and tests run at other dates.
-- KEYS: one per limit, in order (all under the {rl} tag)
-- ARGV: 1 now ms, 2 slack ms (added to every expiry), 3 longest expiry ms;
--       then per limit a kind and two parameters:
--       'c' cooldown: period ms, (unused)
--       'w' window:   limit, end of the window ms
--       'b' bucket:   tokens per second, burst
-- Returns {0, 0} when granted, else {1-based index, retry after ms}.
local now, slack, longest = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local state = {} -- key -> what it would hold after the charges so far
local order = {}

local function load(key, kind)
  local s = state[key]
  if s then return s end
  if kind == 'b' then
    local fields = redis.call('HMGET', key, 't', 'at')
    s = { kind = kind, tokens = fields[1] and tonumber(fields[1]), at = fields[2] and tonumber(fields[2]), keep = 0 }
  else
    local raw = redis.call('GET', key)
    s = { kind = kind, value = raw and tonumber(raw), keep = 0 }
  end
  state[key] = s
  table.insert(order, key)
  return s
end

for i, key in ipairs(KEYS) do
  local kind, p1, p2 = ARGV[3 * i + 1], tonumber(ARGV[3 * i + 2]), tonumber(ARGV[3 * i + 3])
  local s = load(key, kind)
  local wait, keep
  if kind == 'c' then
    -- value: when it was last granted.
    local elapsed = s.value and math.max(0, now - s.value) or p1
    if elapsed < p1 then
      wait = p1 - elapsed
    else
      s.value, keep = now, p1
    end
  elseif kind == 'w' then
    -- value: grants in this window (the window is in the key).
    local count = s.value or 0
    if count >= p1 then
      wait = p2 - now
    else
      s.value, keep = count + 1, p2 - now
    end
  else
    -- tokens after refilling up to now; at only moves forward, so a node
    -- whose clock is behind does not refill the same time twice.
    local per_ms = p1 / 1000
    local tokens, at = s.tokens or p2, s.at or now
    tokens = math.min(p2, tokens + math.max(0, now - at) * per_ms)
    if tokens < 1 then
      wait = math.ceil((1 - tokens) / per_ms)
    else
      s.tokens, s.at = tokens - 1, math.max(at, now)
      keep = math.ceil((p2 - s.tokens) / per_ms)
    end
  end
  if wait then
    return { i, math.min(math.ceil(wait), longest) }
  end
  s.keep = math.max(s.keep, keep)
end

for _, key in ipairs(order) do
  local s = state[key]
  local ttl = math.min(math.ceil(s.keep) + slack, longest)
  if s.kind == 'b' then
    redis.call('HSET', key, 't', string.format('%.17g', s.tokens), 'at', string.format('%d', s.at))
    redis.call('PEXPIRE', key, ttl)
  else
    redis.call('SET', key, string.format('%d', s.value), 'PX', ttl)
  end
end
return { 0, 0 }
