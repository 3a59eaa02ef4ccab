package pool

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"
)

// Pool is a *sql.DB configured like SQLAlchemy's QueuePool and watched like HikariCP's pool.
// Its methods bound the wait for a connection by Config.Timeout; DB gives the *sql.DB itself
// for everything else (recycle, pre-ping, leak watch and metrics apply to both).
//
// A Pool is safe for concurrent use.
type Pool struct {
	db       *sql.DB
	cfg      resolved
	counters counters
	metrics  *collector
	closed   atomic.Bool
}

// maxBadConnRetries matches database/sql: a statement that fails with driver.ErrBadConn
// before reaching the server is retried on another connection this many times.
const maxBadConnRetries = 2

// Open opens a pool on a registered database/sql driver ("pgx", "sqlite", ...). Like
// sql.Open it does not connect; Check (or DB().PingContext) verifies the server.
func Open(driverName, dsn string, cfg Config) (*Pool, error) {
	probe, err := sql.Open(driverName, dsn)
	if err != nil {
		return nil, fmt.Errorf("pool: %w", err)
	}
	d := probe.Driver()
	_ = probe.Close()
	var inner driver.Connector = dsnConnector{dsn: dsn, d: d}
	if dc, ok := d.(driver.DriverContext); ok {
		if inner, err = dc.OpenConnector(dsn); err != nil {
			return nil, fmt.Errorf("pool: %s: %w", driverName, err)
		}
	}
	return New(inner, cfg)
}

// New builds a pool on a driver connector (for pgx: stdlib.GetConnector(config)).
func New(c driver.Connector, cfg Config) (*Pool, error) {
	if c == nil {
		return nil, fmt.Errorf("%w: nil connector", ErrInvalidConfig)
	}
	r, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	p := &Pool{cfg: r}
	p.metrics = newCollector(p)
	p.db = sql.OpenDB(&connector{inner: c, p: p})
	p.db.SetMaxOpenConns(r.maxOpen)
	p.db.SetMaxIdleConns(r.Size)
	if r.Recycle > 0 {
		p.db.SetConnMaxLifetime(r.Recycle)
	}
	p.db.SetConnMaxIdleTime(r.IdleTimeout)
	if r.Registerer != nil {
		if err := r.Registerer.Register(p.metrics); err != nil {
			_ = p.db.Close()
			return nil, fmt.Errorf("pool: register metrics for pool %q: %w", r.Name, err)
		}
	}
	return p, nil
}

// DB returns the configured *sql.DB. Waits for a connection through it are bounded only by
// the caller's context; the Pool's own methods add Config.Timeout.
func (p *Pool) DB() *sql.DB { return p.db }

// Config returns the configuration in effect, defaults applied.
func (p *Pool) Config() Config { return p.cfg.Config }

// MaxOpen is the bound on open connections, Size+Overflow (0: unlimited).
func (p *Pool) MaxOpen() int { return p.cfg.maxOpen }

// Close unregisters the metrics (when New registered them) and closes the *sql.DB. Closing
// twice is a no-op.
func (p *Pool) Close() error {
	if !p.closed.CompareAndSwap(false, true) {
		return nil
	}
	if p.cfg.Registerer != nil {
		p.cfg.Registerer.Unregister(p.metrics)
	}
	return p.db.Close()
}

// Conn acquires a connection, waiting at most Config.Timeout; the caller must Close it.
func (p *Pool) Conn(ctx context.Context) (*sql.Conn, error) {
	return p.acquire(ctx)
}

// ExecContext runs a statement on a connection acquired within Config.Timeout.
func (p *Pool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	for i := 0; ; i++ {
		c, err := p.acquire(ctx)
		if err != nil {
			return nil, err
		}
		res, err := c.ExecContext(ctx, query, args...)
		_ = c.Close()
		if !retryable(err, i) {
			return res, err
		}
	}
}

// QueryContext runs a query on a connection acquired within Config.Timeout. The connection
// returns to the pool when the rows are closed.
func (p *Pool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return hold(ctx, p, func(c *sql.Conn) (*sql.Rows, error) { return c.QueryContext(ctx, query, args...) })
}

// QueryRowContext runs a query expected to return at most one row on a connection acquired
// within Config.Timeout. The connection returns to the pool when Scan is called, as with
// sql.Row.
func (p *Pool) QueryRowContext(ctx context.Context, query string, args ...any) *Row {
	c, err := p.acquire(ctx)
	if err != nil {
		return &Row{err: err}
	}
	return &Row{row: c.QueryRowContext(ctx, query, args...), c: c}
}

// BeginTx starts a transaction on a connection acquired within Config.Timeout. The
// connection returns to the pool at Commit or Rollback.
func (p *Pool) BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error) {
	return hold(ctx, p, func(c *sql.Conn) (*sql.Tx, error) { return c.BeginTx(ctx, opts) })
}

// hold acquires a connection and starts use on it (a query's rows, a transaction); the
// connection goes back to the pool once what use returned is closed. Bad connections are
// retried as database/sql retries them.
func hold[T any](ctx context.Context, p *Pool, use func(*sql.Conn) (T, error)) (T, error) {
	for i := 0; ; i++ {
		c, err := p.acquire(ctx)
		if err != nil {
			var zero T
			return zero, err
		}
		v, err := use(c)
		if err != nil {
			_ = c.Close()
			if retryable(err, i) {
				continue
			}
			var zero T
			return zero, err
		}
		go releaseAfter(c)
		return v, nil
	}
}

// releaseAfter closes c; sql.Conn.Close waits until the rows or transaction using it are
// closed, so it runs in its own goroutine.
func releaseAfter(c *sql.Conn) { _ = c.Close() }

func retryable(err error, attempt int) bool {
	return err != nil && attempt < maxBadConnRetries && errors.Is(err, driver.ErrBadConn)
}

// acquire takes a connection within Config.Timeout (or the caller's own earlier deadline).
func (p *Pool) acquire(ctx context.Context) (*sql.Conn, error) {
	start := time.Now()
	actx, cancel := ctx, context.CancelFunc(nil)
	if deadline := start.Add(p.cfg.Timeout); !deadlineBefore(ctx, deadline) {
		actx, cancel = context.WithDeadlineCause(ctx, deadline, ErrTimeout)
	}
	c, err := p.db.Conn(actx)
	waited := time.Since(start)
	timedOut := err != nil && cancel != nil && ctx.Err() == nil && errors.Is(context.Cause(actx), ErrTimeout)
	if cancel != nil {
		cancel()
	}
	p.counters.acquires.Add(1)
	p.metrics.observeAcquire(waited)
	if err != nil {
		if timedOut {
			p.counters.acquireTimeouts.Add(1)
			return nil, &TimeoutError{Timeout: p.cfg.Timeout, Waited: waited, InUse: p.db.Stats().InUse, MaxOpen: p.cfg.maxOpen, Err: err}
		}
		return nil, err
	}
	if p.cfg.LeakThreshold > 0 {
		// A fresh connection has no ResetSession to mark it taken; mark it now so a
		// connection held without being used is watched too.
		_ = c.Raw(markCheckout)
	}
	return c, nil
}

// deadlineBefore reports whether ctx has its own deadline no later than t.
func deadlineBefore(ctx context.Context, t time.Time) bool {
	dl, ok := ctx.Deadline()
	return ok && !dl.After(t)
}

func markCheckout(dc any) error {
	if c, ok := dc.(*conn); ok {
		c.checkout()
	}
	return nil
}

// Row is the result of QueryRowContext: sql.Row's behaviour, plus the acquire error.
type Row struct {
	err error
	row *sql.Row
	c   *sql.Conn
}

// Scan copies the row's columns into dest and returns the connection to the pool; with no
// row it returns sql.ErrNoRows. A failed acquisition (ErrTimeout) is returned here.
func (r *Row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	err := r.row.Scan(dest...)
	_ = r.c.Close()
	return err
}

// Err returns the error that would be returned by Scan, without scanning. When there is one,
// the connection is returned to the pool at once.
func (r *Row) Err() error {
	if r.err != nil {
		return r.err
	}
	err := r.row.Err()
	if err != nil {
		_ = r.c.Close()
	}
	return err
}

const (
	levelInfo = slog.LevelInfo
	levelWarn = slog.LevelWarn
)

func poolAttr(p *Pool) slog.Attr  { return slog.String("pool", p.cfg.Name) }
func errAttr(err error) slog.Attr { return slog.String("error", err.Error()) }
func sqlAttr(q string) slog.Attr  { return slog.String("sql", q) }
