package redisstore

// takeScript is the Lua source of the script that checks and charges every limit of a rule at once.
//
// KEYS[1] is one string per client and strategy, holding for each limit four
// little-endian doubles (Redis's struct library): the period in ms, w (fixed: window
// start in ms; sliding: window index), c (units in the current window) and p (sliding:
// units in the previous window). A limit whose stored period differs from the requested
// one starts afresh, so a changed rule never reads foreign counters.
//
// ARGV: now in ms ("" = server TIME), cost, "f" or "s", and the rule packed as two
// little-endian doubles per limit: count and period in ms.
//
// It returns allowed (0/1), now, and the state of every limit after the take, packed
// like the stored value. The arithmetic mirrors ratelimit.Strategy.Advance and Fits.
// It runs GET, and when allowed SET with PX, whatever the number of limits.
const takeScript = `
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local cost = tonumber(ARGV[2])
local sliding = ARGV[3] == 's'
local rule = ARGV[4]
local n = #rule / 16
local raw = redis.call('GET', KEYS[1])
if raw and #raw ~= 32 * n then raw = nil end
local packed = ''
local allowed = 1
local ttl = 0
for i = 1, n do
  local limit, period = struct.unpack('<dd', rule, 16 * i - 15)
  local per, w, c, p
  if raw then
    per, w, c, p = struct.unpack('<dddd', raw, 32 * i - 31)
    if per ~= period then w = nil end
  end
  local keep
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
    keep = (w + 2) * period - now
  else
    if w == nil or now - w >= period then
      w, c, p = now, 0, 0
    end
    if c + cost > limit then allowed = 0 end
    keep = w + period - now
  end
  if keep + period > ttl then ttl = keep + period end
  packed = packed .. struct.pack('<dddd', period, w, c, p)
end
if allowed == 1 then
  -- Charge every window: c is the third double of each limit.
  local charged = ''
  for i = 1, n do
    local period, w, c, p = struct.unpack('<dddd', packed, 32 * i - 31)
    charged = charged .. struct.pack('<dddd', period, w, c + cost, p)
  end
  packed = charged
  redis.call('SET', KEYS[1], packed, 'PX', ttl)
end
return {allowed, now, packed}
`
