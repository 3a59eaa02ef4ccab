package redisstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/nexus-reussite/harden/ratelimit"
)

// ErrCircuitOpen is wrapped (with ratelimit.ErrStoreUnavailable) by the errors of calls
// refused while the circuit breaker is open.
var ErrCircuitOpen = errors.New("redisstore: circuit open")

// ErrInvalidConfig is wrapped by configuration errors from New.
var ErrInvalidConfig = errors.New("redisstore: invalid config")

// Config configures a Store.
type Config struct {
	// Prefix starts every key. It must not contain '{' or '}'. Default
	// "harden:ratelimit:".
	Prefix string
	// Timeout bounds each call to Redis, whether or not the client has
	// ContextTimeoutEnabled. Default 50ms.
	Timeout time.Duration
	// FailureThreshold is the number of consecutive failed calls that opens the
	// circuit breaker. Default 5.
	FailureThreshold int
	// Cooldown is how long the open breaker refuses calls before letting one probe
	// through. Default 1s.
	Cooldown time.Duration
	// Now, when set, is the clock of windows, sent with each call. Default nil: the
	// Redis server's clock, the same for every instance.
	Now func() time.Time
}

// Store is a ratelimit.Store on Redis. It is safe for concurrent use.
type Store struct {
	client  redis.Scripter
	prefix  string
	timeout time.Duration
	now     func() time.Time
	breaker breaker
}

var _ ratelimit.Store = (*Store)(nil)

// New returns a Store using client: a *redis.Client, *redis.ClusterClient, *redis.Ring
// or any redis.UniversalClient.
func New(client redis.Scripter, cfg Config) (*Store, error) {
	if client == nil {
		return nil, fmt.Errorf("%w: nil client", ErrInvalidConfig)
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "harden:ratelimit:"
	}
	if strings.ContainsAny(cfg.Prefix, "{}") {
		return nil, fmt.Errorf("%w: prefix %q must not contain '{' or '}'", ErrInvalidConfig, cfg.Prefix)
	}
	if cfg.Timeout < 0 || cfg.FailureThreshold < 0 || cfg.Cooldown < 0 {
		return nil, fmt.Errorf("%w: Timeout, FailureThreshold and Cooldown must not be negative", ErrInvalidConfig)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 50 * time.Millisecond
	}
	if cfg.FailureThreshold == 0 {
		cfg.FailureThreshold = 5
	}
	if cfg.Cooldown == 0 {
		cfg.Cooldown = time.Second
	}
	return &Store{
		client:  client,
		prefix:  cfg.Prefix,
		timeout: cfg.Timeout,
		now:     cfg.Now,
		breaker: breaker{threshold: cfg.FailureThreshold, cooldown: cfg.Cooldown},
	}, nil
}

// CircuitOpen reports whether the circuit breaker is refusing calls.
func (s *Store) CircuitOpen() bool { return s.breaker.isOpen() }

// Key returns the Redis key of one limit of key: prefix, the key as hash tag, the
// strategy and the period in milliseconds. A key holding '}' (which would end the tag
// early) or empty is replaced in the tag by a SHA-256 digest.
func (s *Store) Key(key string, strategy ratelimit.Strategy, period time.Duration) string {
	tag := key
	if tag == "" || strings.IndexByte(tag, '}') >= 0 {
		sum := sha256.Sum256([]byte(key))
		tag = "sha256:" + hex.EncodeToString(sum[:16])
	}
	kind := "f:"
	if strategy == ratelimit.SlidingWindow {
		kind = "s:"
	}
	return s.prefix + "{" + tag + "}:" + kind + strconv.FormatInt(period.Milliseconds(), 10)
}

// Take implements ratelimit.Store in one round trip.
func (s *Store) Take(ctx context.Context, key string, rule ratelimit.Rule, strategy ratelimit.Strategy, cost uint64) (ratelimit.Decision, error) {
	if err := rule.Validate(); err != nil {
		return ratelimit.Decision{}, err
	}
	if strategy != ratelimit.FixedWindow && strategy != ratelimit.SlidingWindow {
		return ratelimit.Decision{}, fmt.Errorf("%w: strategy %v", ratelimit.ErrUnsupported, strategy)
	}
	keys := make([]string, len(rule))
	args := make([]any, 3, 3+2*len(rule))
	args[0] = ""
	if s.now != nil {
		args[0] = s.now().UnixMilli()
	}
	args[1] = cost
	args[2] = "f"
	if strategy == ratelimit.SlidingWindow {
		args[2] = "s"
	}
	for i, l := range rule {
		keys[i] = s.Key(key, strategy, l.Period)
		args = append(args, l.Count, l.Period.Milliseconds())
	}

	if !s.breaker.allow() {
		return ratelimit.Decision{}, fmt.Errorf("%w: %w", ratelimit.ErrStoreUnavailable, ErrCircuitOpen)
	}
	vals, err := s.run(ctx, keys, args)
	if err != nil {
		if ctx.Err() != nil {
			s.breaker.done(abandoned)
			return ratelimit.Decision{}, ctx.Err()
		}
		s.breaker.done(failed)
		return ratelimit.Decision{}, fmt.Errorf("%w: redis: %w", ratelimit.ErrStoreUnavailable, err)
	}
	s.breaker.done(succeeded)
	if len(vals) != 2+3*len(rule) {
		return ratelimit.Decision{}, fmt.Errorf("%w: script returned %d values, want %d", ratelimit.ErrStoreUnavailable, len(vals), 2+3*len(rule))
	}
	return decision(rule, strategy, vals, cost), nil
}

type reply struct {
	vals []int64
	err  error
}

// run calls the script within the timeout. go-redis ignores context deadlines on the
// socket unless the client has ContextTimeoutEnabled, so the wait is bounded here: on
// timeout the call is abandoned to finish in the background, bounded by the client's
// own read and write timeouts, and the breaker soon stops new ones.
func (s *Store) run(ctx context.Context, keys []string, args []any) ([]int64, error) {
	callCtx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	ch := make(chan reply, 1)
	go func() {
		vals, err := takeScript.Run(callCtx, s.client, keys, args...).Int64Slice()
		ch <- reply{vals, err}
	}()
	select {
	case r := <-ch:
		return r.vals, r.err
	case <-callCtx.Done():
		return nil, callCtx.Err()
	}
}

// decision turns the script's reply into a Decision with the shared arithmetic.
func decision(rule ratelimit.Rule, strategy ratelimit.Strategy, vals []int64, cost uint64) ratelimit.Decision {
	d := ratelimit.Decision{Allowed: vals[0] == 1, N: len(rule)}
	now := vals[1] * int64(time.Millisecond)
	for i, l := range rule {
		v := vals[2+3*i:]
		st := ratelimit.WindowState{Start: v[0], Count: uint64(max(v[1], 0)), Prev: uint64(max(v[2], 0))}
		if strategy == ratelimit.FixedWindow {
			st.Start *= int64(time.Millisecond)
		}
		d.Limits[i] = strategy.Status(l, st, now, cost)
	}
	return d
}
