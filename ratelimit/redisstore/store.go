package redisstore

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/nexus-reussite/harden/ratelimit/store"
)

// ErrCircuitOpen is wrapped (with store.ErrUnavailable) by the errors of calls
// refused while the circuit breaker is open.
var ErrCircuitOpen = errors.New("redisstore: circuit open")

// ErrInvalidConfig is wrapped by configuration errors from New.
var ErrInvalidConfig = errors.New("redisstore: invalid config")

// Config configures a Store.
type Config struct {
	// Prefix starts every key, and is required: name the application in it (for
	// example "myapp:ratelimit:"), so that two services on one Redis never share
	// counters unless they are given the same prefix. It must not contain '{' or '}'.
	Prefix string
	// Timeout bounds each call to Redis. Default 50ms. Clients with
	// ContextTimeoutEnabled take the cheapest path; others are bounded by a goroutine
	// per call.
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

// Store is a store.Store on Redis. It is safe for concurrent use.
type Store struct {
	client      redis.Scripter
	script      *redis.Script // takeScript, run by EVALSHA with a fallback to EVAL
	ctxTimeouts bool          // the client bounds socket waits by context deadlines
	prefix      string
	timeout     time.Duration
	now         func() time.Time
	breaker     breaker
}

var _ store.Store = (*Store)(nil)

// New returns a Store using client: a *redis.Client, *redis.ClusterClient, *redis.Ring
// or any redis.UniversalClient.
func New(client redis.Scripter, cfg Config) (*Store, error) {
	if client == nil {
		return nil, fmt.Errorf("%w: nil client", ErrInvalidConfig)
	}
	if cfg.Prefix == "" {
		return nil, fmt.Errorf("%w: Prefix is required and should name the application (for example \"myapp:ratelimit:\"): services with the same prefix on one Redis share their counters", ErrInvalidConfig)
	}
	if strings.ContainsAny(cfg.Prefix, "{}") {
		return nil, fmt.Errorf("%w: Prefix %q must not contain '{' or '}'", ErrInvalidConfig, cfg.Prefix)
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
		client:      client,
		script:      redis.NewScript(takeScript),
		ctxTimeouts: contextTimeouts(client),
		prefix:      cfg.Prefix,
		timeout:     cfg.Timeout,
		now:         cfg.Now,
		breaker:     breaker{threshold: cfg.FailureThreshold, cooldown: cfg.Cooldown},
	}, nil
}

// contextTimeouts reports whether client honours context deadlines on its sockets.
func contextTimeouts(client redis.Scripter) bool {
	switch c := client.(type) {
	case *redis.Client:
		return c.Options().ContextTimeoutEnabled
	case *redis.ClusterClient:
		return c.Options().ContextTimeoutEnabled
	}
	return false
}

// CircuitOpen reports whether the circuit breaker is refusing calls.
func (s *Store) CircuitOpen() bool { return s.breaker.isOpen() }

// Key returns the Redis key holding the counters of key for strategy: prefix, the key
// as hash tag, and the strategy. Every limit of a rule lives in this one value, so a take
// touches a single key (and slot, in a Redis Cluster). A key holding '}' (which would
// end the tag early) or empty is replaced in the tag by a SHA-256 digest.
func (s *Store) Key(key string, strategy store.Strategy) string {
	tag := key
	if tag == "" || strings.IndexByte(tag, '}') >= 0 {
		sum := sha256.Sum256([]byte(key))
		tag = "sha256:" + hex.EncodeToString(sum[:16])
	}
	if strategy == store.SlidingWindow {
		return s.prefix + "{" + tag + "}:s"
	}
	return s.prefix + "{" + tag + "}:f"
}

// Take implements store.Store in one round trip.
func (s *Store) Take(ctx context.Context, key string, rule store.Rule, strategy store.Strategy, cost uint64) (store.Decision, error) {
	if err := rule.Validate(); err != nil {
		return store.Decision{}, err
	}
	if strategy != store.FixedWindow && strategy != store.SlidingWindow {
		return store.Decision{}, fmt.Errorf("%w: strategy %v", store.ErrUnsupported, strategy)
	}
	keys := []string{s.Key(key, strategy)}
	packed := make([]byte, 16*len(rule))
	for i, l := range rule {
		binary.LittleEndian.PutUint64(packed[16*i:], math.Float64bits(float64(l.Count)))
		binary.LittleEndian.PutUint64(packed[16*i+8:], math.Float64bits(float64(l.Period.Milliseconds())))
	}
	now := ""
	if s.now != nil {
		now = strconv.FormatInt(s.now().UnixMilli(), 10)
	}
	kind := "f"
	if strategy == store.SlidingWindow {
		kind = "s"
	}
	args := []any{now, cost, kind, packed}

	if !s.breaker.allow() {
		return store.Decision{}, fmt.Errorf("%w: %w", store.ErrUnavailable, ErrCircuitOpen)
	}
	res, err := s.run(ctx, keys, args)
	if err != nil {
		if ctx.Err() != nil {
			s.breaker.done(abandoned)
			return store.Decision{}, ctx.Err()
		}
		s.breaker.done(failed)
		return store.Decision{}, fmt.Errorf("%w: redis: %w", store.ErrUnavailable, err)
	}
	s.breaker.done(succeeded)
	d, err := decision(rule, strategy, res, cost)
	if err != nil {
		return store.Decision{}, fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return d, nil
}

type reply struct {
	res []any
	err error
}

// run calls the script within the timeout. Unless the client has
// ContextTimeoutEnabled, go-redis ignores context deadlines on the socket, so the wait
// is bounded here: on timeout the call is abandoned to finish in the background,
// bounded by the client's own read and write timeouts, and the breaker soon stops new
// ones.
func (s *Store) run(ctx context.Context, keys []string, args []any) ([]any, error) {
	callCtx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if s.ctxTimeouts {
		return s.script.Run(callCtx, s.client, keys, args...).Slice()
	}
	ch := make(chan reply, 1)
	go func() {
		res, err := s.script.Run(callCtx, s.client, keys, args...).Slice()
		ch <- reply{res, err}
	}()
	select {
	case r := <-ch:
		return r.res, r.err
	case <-callCtx.Done():
		return nil, callCtx.Err()
	}
}

// decision turns the script's reply into a Decision with the shared arithmetic.
func decision(rule store.Rule, strategy store.Strategy, res []any, cost uint64) (store.Decision, error) {
	if len(res) != 3 {
		return store.Decision{}, fmt.Errorf("script returned %d values, want 3", len(res))
	}
	allowed, _ := res[0].(int64)
	nowMS, ok := res[1].(int64)
	packed, ok2 := res[2].(string)
	if !ok || !ok2 || len(packed) != 32*len(rule) {
		return store.Decision{}, fmt.Errorf("unexpected script reply %T %T of %d bytes", res[1], res[2], len(packed))
	}
	d := store.Decision{Allowed: allowed == 1, N: len(rule)}
	now := nowMS * int64(time.Millisecond)
	f := func(i int) float64 {
		return math.Float64frombits(binary.LittleEndian.Uint64([]byte(packed[8*i : 8*i+8])))
	}
	for i, l := range rule {
		st := store.WindowState{Start: int64(f(4*i + 1)), Count: uint64(max(f(4*i+2), 0)), Prev: uint64(max(f(4*i+3), 0))}
		if strategy == store.FixedWindow {
			st.Start *= int64(time.Millisecond)
		}
		d.Limits[i] = strategy.Status(l, st, now, cost)
	}
	return d, nil
}
