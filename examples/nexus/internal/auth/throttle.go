package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Login throttling: every login attempt on an account (its normalised email, whatever
// the client's address) is counted before the password is checked. The first
// ThrottleConfig.Free attempts go through at once; each further one must wait a delay
// that doubles from Base up to Max after the one before, and is answered 429 with
// Retry-After meanwhile, without a password check. A successful login forgets the
// account's attempts, and so does a day without any. It is a backoff, not a lockout:
// an attacker aiming at a victim delays the victim's next try by at most Max.
//
// With Redis the counts are shared by every instance (one hash per account under
// <prefix>login-throttle:, keyed by a digest of the email); when Redis fails, and
// without Redis, this instance counts in memory.

// Defaults of ThrottleConfig.
const (
	DefaultThrottleFree = 5
	DefaultThrottleBase = time.Second
	DefaultThrottleMax  = 5 * time.Minute
)

// throttleForget is how long an account's attempts are remembered after the last one.
const throttleForget = 24 * time.Hour

// maxThrottleMemory bounds the accounts counted in memory; past it, forgotten entries
// are swept, then arbitrary ones dropped.
const maxThrottleMemory = 100_000

// ThrottleConfig configures login throttling; zero fields take the defaults.
type ThrottleConfig struct {
	Free int           // attempts without delay; negative = throttling off
	Base time.Duration // delay after the first attempt past Free
	Max  time.Duration // longest delay
}

func (c ThrottleConfig) withDefaults() ThrottleConfig {
	if c.Free == 0 {
		c.Free = DefaultThrottleFree
	}
	if c.Base <= 0 {
		c.Base = DefaultThrottleBase
	}
	if c.Max <= 0 {
		c.Max = DefaultThrottleMax
	}
	c.Max = max(c.Max, c.Base)
	return c
}

// delay is the wait imposed after the n-th counted attempt.
func (c ThrottleConfig) delay(n int) time.Duration {
	if n <= c.Free {
		return 0
	}
	d := c.Base
	for i := c.Free + 1; i < n && d < c.Max; i++ {
		d *= 2
	}
	return min(d, c.Max)
}

// throttle counts login attempts per account.
type throttle struct {
	cfg    ThrottleConfig
	rdb    *redis.Client // nil: memory only
	prefix string
	log    *slog.Logger

	mu  sync.Mutex
	mem map[string]throttleState
}

type throttleState struct {
	n        int       // attempts counted
	next     time.Time // earliest next attempt
	lastSeen time.Time
}

func newThrottle(cfg ThrottleConfig, rdb *redis.Client, prefix string, log *slog.Logger) *throttle {
	return &throttle{cfg: cfg.withDefaults(), rdb: rdb, prefix: prefix + "login-throttle:", log: log, mem: map[string]throttleState{}}
}

// key is the digest of an account's normalised email: Redis never holds the address.
func throttleKey(email string) string {
	sum := sha256.Sum256([]byte(email))
	return hex.EncodeToString(sum[:16])
}

// throttleScript counts an attempt unless the account must wait: it returns the wait in
// milliseconds (0 when the attempt is counted and may go on).
// KEYS[1] the account; ARGV: now (ms), free, base (ms), max (ms), forget (ms).
var throttleScript = redis.NewScript(`
local now, free, base, maxd, forget = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local st = redis.call('HMGET', KEYS[1], 'n', 'next')
local n, nxt = tonumber(st[1]) or 0, tonumber(st[2]) or 0
if now < nxt then return nxt - now end
n = n + 1
if n > free then
  local d = base * 2 ^ (n - free - 1)
  if d > maxd then d = maxd end
  nxt = now + d
end
redis.call('HSET', KEYS[1], 'n', n, 'next', nxt)
redis.call('PEXPIRE', KEYS[1], forget)
return 0
`)

// attempt counts a login attempt on the account; a positive result is how long it must
// wait instead, and the attempt is not counted.
func (t *throttle) attempt(ctx context.Context, email string, now time.Time) time.Duration {
	if t.cfg.Free < 0 {
		return 0
	}
	key := throttleKey(email)
	if t.rdb != nil {
		wait, err := throttleScript.Run(ctx, t.rdb, []string{t.prefix + key}, now.UnixMilli(), t.cfg.Free,
			t.cfg.Base.Milliseconds(), t.cfg.Max.Milliseconds(), throttleForget.Milliseconds()).Int64()
		if err == nil {
			return time.Duration(wait) * time.Millisecond
		}
		t.log.WarnContext(ctx, "login throttle counts in memory: redis failed", "err", err)
	}
	return t.attemptMemory(key, now)
}

func (t *throttle) attemptMemory(key string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	st, ok := t.mem[key]
	if ok && now.Sub(st.lastSeen) >= throttleForget {
		st = throttleState{}
	}
	if now.Before(st.next) {
		return st.next.Sub(now)
	}
	st.n++
	st.lastSeen = now
	if d := t.cfg.delay(st.n); d > 0 {
		st.next = now.Add(d)
	}
	if !ok && len(t.mem) >= maxThrottleMemory {
		t.sweep(now)
	}
	t.mem[key] = st
	return 0
}

// sweep drops forgotten entries, and arbitrary ones while the map is still full.
func (t *throttle) sweep(now time.Time) {
	for k, st := range t.mem {
		if now.Sub(st.lastSeen) >= throttleForget {
			delete(t.mem, k)
		}
	}
	for k := range t.mem {
		if len(t.mem) < maxThrottleMemory {
			break
		}
		delete(t.mem, k)
	}
}

// reset forgets the account's attempts (after a successful login).
func (t *throttle) reset(ctx context.Context, email string) {
	if t.cfg.Free < 0 {
		return
	}
	key := throttleKey(email)
	t.mu.Lock()
	delete(t.mem, key)
	t.mu.Unlock()
	if t.rdb != nil {
		if err := t.rdb.Del(ctx, t.prefix+key).Err(); err != nil {
			t.log.WarnContext(ctx, "login throttle not reset in redis", "err", err)
		}
	}
}
