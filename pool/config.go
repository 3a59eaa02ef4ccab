package pool

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Values of Config fields left zero: SQLAlchemy's QueuePool tuned for a busy web service
// (pool_size 20, max_overflow 30, pool_timeout 60, pool_recycle 3600, pool_pre_ping).
const (
	defaultSize          = 20
	defaultOverflow      = 30
	defaultTimeout       = 60 * time.Second
	defaultRecycle       = time.Hour
	defaultPrePingIdle   = 500 * time.Millisecond
	defaultCheckTimeout  = 2 * time.Second
	defaultCheckQuery    = "SELECT 1"
	defaultName          = "default"
	defaultJitterDivisor = 10
)

// Special Overflow values. SQLAlchemy spells them max_overflow=0 and max_overflow=-1.
const (
	// NoOverflow opens exactly Size connections and never more.
	NoOverflow = -1
	// UnlimitedOverflow puts no bound on open connections (database/sql MaxOpenConns 0).
	UnlimitedOverflow = -2
)

// maxConns bounds Size and Overflow so that their sum cannot overflow and a typo does not ask
// the database for millions of connections.
const maxConns = 1 << 16

// Config tunes a Pool. The zero value is a production configuration: 20 connections kept
// plus 30 under load, a 60 s acquire timeout, a one-hour recycle and pre-ping on. Field names
// follow SQLAlchemy's create_engine arguments; each comment says which database/sql setting
// the field drives.
type Config struct {
	// Size is SQLAlchemy's pool_size: connections kept open while idle (SetMaxIdleConns).
	// Default 20.
	Size int

	// Overflow is SQLAlchemy's max_overflow: connections opened beyond Size under load and
	// closed when returned while Size idle ones are kept. SetMaxOpenConns is Size+Overflow.
	// Default 30 (50 open at most). NoOverflow keeps exactly Size; UnlimitedOverflow removes
	// the bound.
	Overflow int

	// Timeout is SQLAlchemy's pool_timeout: how long the Pool's methods (Conn, ExecContext,
	// QueryContext, QueryRowContext, BeginTx) wait to acquire a connection — a free one, or a
	// new one dialled and pinged — before failing with ErrTimeout, whatever the caller's
	// context says. A shorter deadline on the caller's context still wins. Default 60 s.
	Timeout time.Duration

	// Recycle is SQLAlchemy's pool_recycle: the age after which a connection is closed rather
	// than reused (SetConnMaxLifetime is Recycle). Each connection retires at its own age,
	// Recycle minus a random part of RecycleJitter, so connections opened together do not all
	// reconnect together. Default 1 h; negative: never recycle (SQLAlchemy's -1).
	Recycle time.Duration

	// RecycleJitter is the widest spread subtracted from Recycle per connection. Default
	// Recycle/10 (a one-hour recycle spreads over six minutes); negative: no jitter.
	RecycleJitter time.Duration

	// IdleTimeout closes connections idle for longer (SetConnMaxIdleTime). Default 0: idle
	// connections are kept, up to Size, until recycled — as SQLAlchemy's QueuePool does.
	IdleTimeout time.Duration

	// DisablePrePing turns off SQLAlchemy's pool_pre_ping, which is on by default: a
	// connection taken from the pool after being idle is pinged first, and a broken one is
	// closed and replaced before the caller sees an error. Drivers without driver.Pinger are
	// not pinged.
	DisablePrePing bool

	// PrePingIdle skips the pre-ping for connections used within this window (HikariCP's
	// aliveBypassWindowMs), which keeps the ping off the hot path. Default 500 ms; negative:
	// ping at every checkout, as SQLAlchemy does.
	PrePingIdle time.Duration

	// LeakThreshold reports, once, a connection (or the transaction holding it) kept out of
	// the pool longer than this, with the stack of the code that took it (HikariCP's
	// leakDetectionThreshold). Default 0: off. Stacks are captured only when on.
	LeakThreshold time.Duration

	// Echo is SQLAlchemy's echo: every statement's text (never its arguments) is logged at
	// Info level to Logger. Default off.
	Echo bool

	// CheckTimeout bounds Check, the readiness probe, from acquiring a connection to reading
	// the answer. Default 2 s.
	CheckTimeout time.Duration

	// CheckQuery is the statement Check runs. Default "SELECT 1".
	CheckQuery string

	// Name labels this pool's metrics (pool="..."), so several pools can share a registry.
	// Default "default".
	Name string

	// Logger receives leak reports, pre-ping failures and echoed statements. Default: discard.
	Logger *slog.Logger

	// Registerer, when set, registers the pool's collector (harden_pool_* metrics) at New and
	// unregisters it at Close. Default nil: no registration; Collector still works.
	Registerer prometheus.Registerer
}

// resolved is a Config with defaults applied and the database/sql mapping computed.
type resolved struct {
	Config
	maxOpen int // 0 = unlimited
}

func (c Config) resolve() (resolved, error) {
	if err := c.resolveCounts(); err != nil {
		return resolved{}, err
	}
	if err := c.resolveRecycle(); err != nil {
		return resolved{}, err
	}
	if err := c.resolveDurations(); err != nil {
		return resolved{}, err
	}
	if c.CheckQuery == "" {
		c.CheckQuery = defaultCheckQuery
	}
	if c.Name == "" {
		c.Name = defaultName
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	r := resolved{Config: c}
	switch c.Overflow {
	case NoOverflow:
		r.maxOpen = c.Size
	case UnlimitedOverflow:
		r.maxOpen = 0
	default:
		r.maxOpen = c.Size + c.Overflow
	}
	return r, nil
}

// resolveCounts applies the defaults of Size and Overflow and checks their bounds.
func (c *Config) resolveCounts() error {
	if c.Size == 0 {
		c.Size = defaultSize
	}
	if c.Size < 0 || c.Size > maxConns {
		return fmt.Errorf("%w: Size %d must be between 1 and %d", ErrInvalidConfig, c.Size, maxConns)
	}
	if c.Overflow == 0 {
		c.Overflow = defaultOverflow
	}
	if c.Overflow < UnlimitedOverflow || c.Overflow > maxConns {
		return fmt.Errorf("%w: Overflow %d must be between 1 and %d, NoOverflow or UnlimitedOverflow", ErrInvalidConfig, c.Overflow, maxConns)
	}
	return nil
}

// resolveRecycle applies the defaults of Recycle and RecycleJitter; a jitter has no
// meaning without a recycle.
func (c *Config) resolveRecycle() error {
	if c.Recycle == 0 {
		c.Recycle = defaultRecycle
	}
	if c.Recycle > 0 {
		switch {
		case c.RecycleJitter == 0:
			c.RecycleJitter = c.Recycle / defaultJitterDivisor
		case c.RecycleJitter >= c.Recycle:
			return fmt.Errorf("%w: RecycleJitter %v must be shorter than Recycle %v", ErrInvalidConfig, c.RecycleJitter, c.Recycle)
		}
	}
	if c.Recycle < 0 || c.RecycleJitter < 0 {
		c.RecycleJitter = 0
	}
	return nil
}

// resolveDurations applies the defaults of the other durations and checks their signs.
func (c *Config) resolveDurations() error {
	if c.Timeout == 0 {
		c.Timeout = defaultTimeout
	}
	if c.Timeout < 0 {
		return fmt.Errorf("%w: Timeout %v must be positive", ErrInvalidConfig, c.Timeout)
	}
	if c.IdleTimeout < 0 {
		return fmt.Errorf("%w: IdleTimeout %v must not be negative", ErrInvalidConfig, c.IdleTimeout)
	}
	if c.PrePingIdle == 0 {
		c.PrePingIdle = defaultPrePingIdle
	}
	if c.LeakThreshold < 0 {
		return fmt.Errorf("%w: LeakThreshold %v must not be negative", ErrInvalidConfig, c.LeakThreshold)
	}
	if c.CheckTimeout == 0 {
		c.CheckTimeout = defaultCheckTimeout
	}
	if c.CheckTimeout < 0 {
		return fmt.Errorf("%w: CheckTimeout %v must be positive", ErrInvalidConfig, c.CheckTimeout)
	}
	return nil
}
