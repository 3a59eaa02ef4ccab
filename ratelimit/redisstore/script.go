package redisstore

import "github.com/redis/go-redis/v9"

// takeScript checks and charges every limit of a rule at once.
//
// KEYS: one hash per limit, fields w (fixed: window start in ms; sliding: window index),
// c (units in the current window) and p (sliding: units in the previous window).
// ARGV: now in ms ("" = server TIME), cost, "f" or "s", then count and period in ms of
// each limit. Returns allowed (0/1), now, then w, c, p of each limit after the take.
// The arithmetic mirrors ratelimit.Strategy.Advance and Fits.
var takeScript = redis.NewScript(`
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local cost = tonumber(ARGV[2])
local sliding = ARGV[3] == 's'
local n = #KEYS
local ws, cs, ps, pers = {}, {}, {}, {}
local allowed = 1
for i = 1, n do
  local limit = tonumber(ARGV[2 + 2 * i])
  local period = tonumber(ARGV[3 + 2 * i])
  local v = redis.call('HMGET', KEYS[i], 'w', 'c', 'p')
  local w = tonumber(v[1])
  local c = tonumber(v[2]) or 0
  local p = tonumber(v[3]) or 0
  if sliding then
    local idx = math.floor(now / period)
    if w == nil or idx > w + 1 then
      w, c, p = idx, 0, 0
    elseif idx == w + 1 then
      w, c, p = idx, 0, c
    end
    local est = c
    if p > 0 then
      local left = period - (now - w * period)
      if left < 0 then left = 0 end
      est = p * left / period + c
    end
    if est + cost > limit then allowed = 0 end
  else
    if w == nil or now - w >= period then
      w, c, p = now, 0, 0
    end
    if c + cost > limit then allowed = 0 end
  end
  ws[i], cs[i], ps[i], pers[i] = w, c, p, period
end
local out = {allowed, now}
for i = 1, n do
  if allowed == 1 then
    cs[i] = cs[i] + cost
    local ttl
    if sliding then
      ttl = (ws[i] + 2) * pers[i] - now
    else
      ttl = ws[i] + pers[i] - now
    end
    redis.call('HSET', KEYS[i], 'w', ws[i], 'c', cs[i], 'p', ps[i])
    redis.call('PEXPIRE', KEYS[i], ttl + pers[i])
  end
  out[#out + 1] = ws[i]
  out[#out + 1] = cs[i]
  out[#out + 1] = ps[i]
end
return out
`)
