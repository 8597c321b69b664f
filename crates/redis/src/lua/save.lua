-- Saves user writes, each atomically and on its own: checks the expected
-- sequence, stores the new one (and the organization, on creation),
-- appends the events and, with an email due, replaces the user's pending
-- outbox entry and announces it on the partition's stream. The due email is
-- also recorded, as queued, among the user's notifications (see
-- put_notification.lua for the recipient).
--
-- The same script keeps the user's entries in the partition's indexes, so
-- no index lags its user: a write that changes the user's state moves it
-- to its new state's index, and the digest of its address (`m`, kept in its
-- hash) to its new address's entry. A deleted user (state 3, kept as `t`
-- for the name claims) is in no index. The index keys share the partition's tag and
-- are built here from its prefix: `x:<org>:<state>` (sorted set, user ids
-- by creation ms) and `xm:<bucket>` (hash, address digest -> user ids,
-- comma-separated; the bucket is the digest's first two bytes modulo the
-- bucket count). A write that takes the user out of Initial and says its
-- invitation ended (`c` completed: the code's check; `w` withdrawn: removed)
-- adds it to that week's ended invitations, `xi:<org>:<kind>:<week>` (sorted
-- set by creation ms, expiring at the end of the retention after the week:
-- its time to live from this write). A new email or leaving Initial takes
-- the user out of `xe:<org>`, the exceptional deliveries.
-- The invitation counts `xs:<org>` (hash) follow too: an Initial user with
-- an email is counted under its latest email's delivery state (`d<code>`,
-- the code also in its hash as `d`, see stored::delivery_code); a new email
-- moves it to queued, leaving Initial takes it out.
-- So do the funnel's counts in the same hash: the node names the
-- milestones the write's events reach (stored::milestone_code: `c` a code
-- issued, `o` the link opened, `k` the code's check succeeded); each one
-- the user's hash field `f` does not hold yet is counted (`f<code>`) and
-- added to `f`, so a user counts once per milestone whatever it does again.
-- The same first count times the step from the one before, in the same
-- hash (`h<code><bucket>`, see duration_bucket): opened from the first
-- delivery (`fw`, base-36 seconds, kept by put_notification.lua) else the
-- creation; completed from the first opening (`fo`, kept here) else `fw`
-- else the creation. `fw` and `fo` are dropped once used or once the user
-- leaves Initial: no later step can need them then.
-- And the split of the waiting users in the same hash: the user hash field
-- `w` marks a waiting user counted locked (`l`) or expired (`e`) and
-- `s<mark>` counts them; the node says per write how it leaves the mark
-- (onboard_domain::ports::MarkChange, see stored::mark_change: `l` or `e`
-- set it, locked winning over expired; `n`, a new code, clears it; ''
-- keeps it), and leaving Initial clears it. expire.lua marks the expired
-- users the expiry schedule tells.
-- A write with no events at the stored sequence changes nothing but the
-- indexes: what the index backfill sends.
-- KEYS: 1 outbox stream, 2 retry zset; then per write its user hash, event
--       list and pending entry (all of one partition); last the webhook
--       stream and the expiries (see the block at the end)
-- ARGV: 1 the partition's key prefix, 2 the bucket count; then per write, in
--       turn: the number of its events, expected sequence, new sequence, org
--       id, user id, snapshot (or ""), outbox entry (or ""), notification id
--       (or ""), its field, recipient, queued record without recipient,
--       with it, its state, creation ms, address digest, its id as the
--       indexes hold it (see keys::index_id), how its invitation ended (c,
--       w or ""), that week, the week's time to live (ms), the milestones
--       its events reach (codes, or ""), the write's time (ms), its mark's
--       change (l, e, n or ""), then its events;
--       then the webhook block's arguments
-- Returns per write 1 when saved, 0 when the sequence was not the expected one.
local prefix, buckets = ARGV[1], tonumber(ARGV[2])
-- stored::delivery_code(Queued): a new email's record is queued.
local QUEUED = 'q'
-- The states a user is indexed under: all but 3 (deleted).
local states = { '0', '1', '2', '4', '5', '6' }

-- duration_bucket and base36: the durations.lua prelude.

local function bucket(digest)
  return prefix .. 'xm:' .. ((string.byte(digest, 1) * 256 + string.byte(digest, 2)) % buckets)
end

local function unlist(digest, uid)
  local key = bucket(digest)
  local ids = redis.call('HGET', key, digest)
  if not ids then
    return
  end
  local kept = {}
  for id in string.gmatch(ids, '[^,]+') do
    if id ~= uid then
      table.insert(kept, id)
    end
  end
  if #kept == 0 then
    redis.call('HDEL', key, digest)
  else
    redis.call('HSET', key, digest, table.concat(kept, ','))
  end
end

local function list(digest, uid)
  local key = bucket(digest)
  local ids = redis.call('HGET', key, digest)
  redis.call('HSET', key, digest, ids and (ids .. ',' .. uid) or uid)
end

local results = {}
local a = 3
for k = 3, #KEYS - 2, 3 do
  local user, log, pending = KEYS[k], KEYS[k + 1], KEYS[k + 2]
  local events = tonumber(ARGV[a])
  local expected, new, org, uid, snapshot = ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4], ARGV[a + 5]
  local entry, nid, field, recipient = ARGV[a + 6], ARGV[a + 7], ARGV[a + 8], ARGV[a + 9]
  local plain, addressed = ARGV[a + 10], ARGV[a + 11]
  local state, created, digest, xid = ARGV[a + 12], ARGV[a + 13], ARGV[a + 14], ARGV[a + 15]
  local ended, week, ended_ttl, reached = ARGV[a + 16], ARGV[a + 17], ARGV[a + 18], ARGV[a + 19]
  local at, change = ARGV[a + 20], ARGV[a + 21]
  local first = a + 22
  a = first + events
  local stored = redis.call('HMGET', user, 'q', 'r', 't', 'm', 'd', 'f', 'fw', 'fo', 'w')
  local current = tonumber(stored[1] or '0')
  if current ~= tonumber(expected) then
    table.insert(results, 0)
  else
    -- One HSET for every field the write sets, one RPUSH for its events:
    -- each call a script makes costs about as much as a small command.
    local fields = { 'q', new }
    if current == 0 then
      table.insert(fields, 'g')
      table.insert(fields, org)
    end
    if snapshot ~= '' then
      table.insert(fields, 's')
      table.insert(fields, snapshot)
      table.insert(fields, 'x')
      table.insert(fields, new)
    end
    if nid ~= '' then
      local usual = stored[2]
      if not usual then
        usual = recipient
        table.insert(fields, 'r')
        table.insert(fields, recipient)
      end
      table.insert(fields, 'n')
      table.insert(fields, nid)
      table.insert(fields, field)
      table.insert(fields, usual == recipient and plain or addressed)
    end
    local removed, had = stored[3] == '3', stored[4]
    local live = state ~= '3'
    -- Whether the write took the user out of Initial (state 6).
    local left_initial = false
    if live then
      -- In its state's index already: nothing moved. Else out of the
      -- others (removing what is not there costs next to nothing) and in.
      local index = prefix .. 'x:' .. org .. ':'
      if not redis.call('ZSCORE', index .. state, xid) then
        for _, other in ipairs(states) do
          if other ~= state and redis.call('ZREM', index .. other, xid) == 1 and other == '6' then
            left_initial = true
          end
        end
        redis.call('ZADD', index .. state, created, xid)
      end
    elseif not removed then
      for _, other in ipairs(states) do
        if redis.call('ZREM', prefix .. 'x:' .. org .. ':' .. other, xid) == 1 and other == '6' then
          left_initial = true
        end
      end
      table.insert(fields, 't')
      table.insert(fields, '3')
    end
    if left_initial and ended ~= '' then
      local key = prefix .. 'xi:' .. org .. ':' .. ended .. ':' .. week
      redis.call('ZADD', key, created, xid)
      redis.call('PEXPIRE', key, ended_ttl)
    end
    -- A new email, or the end of waiting, takes the user out of the
    -- exceptional deliveries (see put_notification.lua).
    if nid ~= '' or left_initial then
      redis.call('ZREM', prefix .. 'xe:' .. org, xid)
    end
    -- The delivery count: moved to queued by a new email while Initial,
    -- dropped by any other state.
    local counted, count = stored[5], false
    if state == '6' and nid ~= '' then
      count = QUEUED
    elseif state ~= '6' and counted then
      count = ''
    end
    if count and count ~= counted then
      local counts = prefix .. 'xs:' .. org
      if counted then
        redis.call('HINCRBY', counts, 'd' .. counted, -1)
      end
      if count ~= '' then
        redis.call('HINCRBY', counts, 'd' .. count, 1)
        table.insert(fields, 'd')
        table.insert(fields, count)
      else
        redis.call('HDEL', user, 'd')
      end
    end
    -- The split of the waiting: the mark as the node judged the write,
    -- none out of Initial.
    local mark, marked = stored[9], nil
    if state == '6' then
      if change == 'l' or change == 'e' then
        marked = (change == 'e' and mark == 'l') and 'l' or change
      elseif change == '' then
        marked = mark
      end
    end
    if marked ~= mark then
      local counts = prefix .. 'xs:' .. org
      if mark then
        redis.call('HINCRBY', counts, 's' .. mark, -1)
      end
      if marked then
        redis.call('HINCRBY', counts, 's' .. marked, 1)
        table.insert(fields, 'w')
        table.insert(fields, marked)
      else
        redis.call('HDEL', user, 'w')
      end
    end
    -- The funnel: each milestone once per user, timed from the step before.
    local delivered, opened = stored[7], stored[8]
    if reached ~= '' then
      local marks = stored[6] or ''
      local counts = prefix .. 'xs:' .. org
      local now, since = math.floor(tonumber(at) / 1000), math.floor(tonumber(created) / 1000)
      for code in string.gmatch(reached, '.') do
        if not string.find(marks, code, 1, true) then
          redis.call('HINCRBY', counts, 'f' .. code, 1)
          marks = marks .. code
          local from
          if code == 'o' then
            from = delivered and tonumber(delivered, 36) or since
            delivered = nil
            if state == '6' and not string.find(marks, 'k', 1, true) then
              opened = base36(now)
            end
          elseif code == 'k' then
            from = (opened and tonumber(opened, 36)) or (delivered and tonumber(delivered, 36)) or since
            delivered, opened = nil, nil
          end
          if from then
            redis.call('HINCRBY', counts, 'h' .. code .. duration_bucket(now - from), 1)
          end
        end
      end
      if marks ~= (stored[6] or '') then
        table.insert(fields, 'f')
        table.insert(fields, marks)
      end
    end
    if state ~= '6' then
      delivered, opened = nil, nil
    end
    -- (Not ipairs: it stops at the first nil.)
    local times, names = { delivered, opened }, { 'fw', 'fo' }
    for i = 1, 2 do
      local time, name = times[i], names[i]
      if time and time ~= stored[6 + i] then
        table.insert(fields, name)
        table.insert(fields, time)
      elseif not time and stored[6 + i] then
        redis.call('HDEL', user, name)
      end
    end
    if had and (had ~= digest or not live) then
      unlist(had, xid)
    end
    if live and had ~= digest then
      list(digest, xid)
      table.insert(fields, 'm')
      table.insert(fields, digest)
    elseif not live and had then
      redis.call('HDEL', user, 'm')
    end
    redis.call('HSET', user, unpack(fields))
    if events > 0 then
      redis.call('RPUSH', log, unpack(ARGV, first, a - 1))
    end
    if nid ~= '' then
      redis.call('SET', pending, entry)
      redis.call('ZREM', KEYS[2], uid)
      redis.call('XADD', KEYS[1], '*', 'u', uid, 'n', nid)
    end
    table.insert(results, 1)
  end
end

-- Webhooks, a block of its own: the last key but one is the partition's
-- webhook stream; after the arguments above, ARGV holds per write the number of
-- webhook events it records, then those events (encoded). They join the
-- stream (field e) with the write when it is saved, in this one atomic
-- write, each with the user's sequence then (field s).
-- Then per write the expiry its new code schedules (its bucket, the next
-- whole second in ms, and the user's index id), or two empty strings: the
-- user joins the bucket's list (the last key, ':', the bucket), the bucket
-- the partition's buckets (the last key, a zset scored by the bucket).
local hooks = KEYS[#KEYS - 1]
local expiries = KEYS[#KEYS]
for i = 1, #results do
  local n = tonumber(ARGV[a])
  if results[i] == 1 then
    local sequence = n > 0 and (redis.call('HGET', KEYS[3 * i], 'q') or '0') or '0'
    for j = a + 1, a + n do
      redis.call('XADD', hooks, '*', 'e', ARGV[j], 's', sequence)
    end
    if ARGV[a + 2 + n] ~= '' then
      local bucket = ARGV[a + 1 + n]
      redis.call('ZADD', expiries, bucket, bucket)
      redis.call('RPUSH', expiries .. ':' .. bucket, ARGV[a + 2 + n])
    end
  end
  a = a + 3 + n
end

-- Reminders (ONBOARD_REMINDERS), a block of its own after the webhook
-- block: per write the number of reminders its new code schedules, then
-- per reminder its bucket (the next whole second, ms) and its entry (the
-- user's index id, ':', the code's expiry in ms). With the saved write each
-- joins its bucket's list (the partition's prefix, 'reminders:', the
-- bucket) and the bucket the partition's buckets (the prefix, 'reminders':
-- a zset scored by the bucket); keys of the partition's tag, built here as
-- the index keys are.
local reminders = prefix .. 'reminders'
for i = 1, #results do
  local n = tonumber(ARGV[a])
  if results[i] == 1 then
    for j = a + 1, a + 2 * n, 2 do
      redis.call('ZADD', reminders, ARGV[j], ARGV[j])
      redis.call('RPUSH', reminders .. ':' .. ARGV[j], ARGV[j + 1])
    end
  end
  a = a + 1 + 2 * n
end
return results
