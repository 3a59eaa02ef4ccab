package pool

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"math/rand/v2"
	"sync/atomic"
	"time"
)

// connector wraps the driver's connector so that every connection the *sql.DB opens carries
// the pool's per-connection behaviour: jittered recycle, pre-ping, leak watch, close reasons.
type connector struct {
	inner driver.Connector
	p     *Pool
}

func (c *connector) Connect(ctx context.Context) (driver.Conn, error) {
	ci, err := c.inner.Connect(ctx)
	if err != nil {
		c.p.counters.openErrors.Add(1)
		return nil, err
	}
	c.p.counters.opened.Add(1)
	now := time.Now()
	w := &conn{ci: ci, p: c.p, used: now}
	if r := c.p.cfg.Recycle; r > 0 {
		life := r
		if j := c.p.cfg.RecycleJitter; j > 0 {
			life -= rand.N(j)
		}
		w.expires = now.Add(life)
	}
	if c.p.cfg.LeakThreshold > 0 {
		w.leak = &leakWatch{p: c.p}
	}
	return w, nil
}

func (c *connector) Driver() driver.Driver { return c.inner.Driver() }

// Close closes the driver's connector when it holds resources; sql.DB.Close calls it.
func (c *connector) Close() error {
	if cl, ok := c.inner.(io.Closer); ok {
		return cl.Close()
	}
	return nil
}

// dsnConnector adapts a driver without driver.DriverContext.
type dsnConnector struct {
	dsn string
	d   driver.Driver
}

func (c dsnConnector) Connect(context.Context) (driver.Conn, error) { return c.d.Open(c.dsn) }
func (c dsnConnector) Driver() driver.Driver                        { return c.d }

// Reasons a connection wrapper closed itself; database/sql counts its own reasons (max idle,
// idle time, lifetime) in sql.DBStats.
const (
	reasonNone int32 = iota
	reasonRecycle
	reasonPing
	reasonBroken
)

// conn wraps a driver connection. database/sql serialises every call on one connection
// (it holds the connection's lock), so fields other than the leak watch need no locking.
type conn struct {
	ci      driver.Conn
	p       *Pool
	expires time.Time // zero: never recycled
	used    time.Time // last return to the pool (or creation)
	inUse   bool
	reason  int32
	leak    *leakWatch // nil unless leak detection is on
}

var (
	_ driver.Conn               = (*conn)(nil)
	_ driver.ConnPrepareContext = (*conn)(nil)
	_ driver.ConnBeginTx        = (*conn)(nil)
	_ driver.ExecerContext      = (*conn)(nil)
	_ driver.QueryerContext     = (*conn)(nil)
	_ driver.Pinger             = (*conn)(nil)
	_ driver.SessionResetter    = (*conn)(nil)
	_ driver.Validator          = (*conn)(nil)
	_ driver.NamedValueChecker  = (*conn)(nil)
)

// Unwrap returns the driver's own connection.
func (c *conn) Unwrap() driver.Conn { return c.ci }

// DriverConn returns the driver's own connection when given the value sql.Conn.Raw passes to
// its callback on a Pool, and v unchanged otherwise.
//
// Raw is how database/sql code reaches what only the driver offers: pgx's CopyFrom and
// LISTEN/NOTIFY through *stdlib.Conn, SQLite's Serialize or backup API. On a Pool the
// callback receives the pool's wrapper around the driver's connection (the wrapper recycles,
// pings and watches it), so a type assertion to the driver's type or interface fails until
// DriverConn unwraps it.
func DriverConn(v any) any {
	if c, ok := v.(*conn); ok {
		return c.ci
	}
	return v
}

// checkout marks the connection as taken; the first call after a return starts the leak
// watch. database/sql resets a reused connection (ResetSession) as it hands it out; a fresh
// one is marked by its first use.
func (c *conn) checkout() {
	if c.inUse {
		return
	}
	c.inUse = true
	if c.leak != nil {
		c.leak.start()
	}
}

func (c *conn) expired(now time.Time) bool {
	return !c.expires.IsZero() && !now.Before(c.expires)
}

func (c *conn) markBad(err error) error {
	if errors.Is(err, driver.ErrBadConn) && c.reason == reasonNone {
		c.reason = reasonBroken
	}
	return err
}

// ResetSession runs when database/sql hands out a connection that was used before: a
// connection past its recycle age is discarded, the driver resets its session, and a
// connection idle longer than PrePingIdle is pinged. driver.ErrBadConn makes database/sql
// close it and try another or a new one, so the caller sees no error.
func (c *conn) ResetSession(ctx context.Context) error {
	now := time.Now()
	if c.expired(now) {
		c.reason = reasonRecycle
		return driver.ErrBadConn
	}
	if r, ok := c.ci.(driver.SessionResetter); ok {
		if err := r.ResetSession(ctx); err != nil {
			return c.markBad(err)
		}
	}
	cfg := &c.p.cfg
	if !cfg.DisablePrePing && (cfg.PrePingIdle < 0 || now.Sub(c.used) >= cfg.PrePingIdle) {
		if p, ok := c.ci.(driver.Pinger); ok {
			if err := p.Ping(ctx); err != nil {
				if ctx.Err() != nil {
					// The caller gave up (or its acquire timeout fired): the connection
					// is not known to be bad, but its state after an interrupted ping is
					// unknown, so it is not reused either.
					c.reason = reasonBroken
					return driver.ErrBadConn
				}
				c.reason = reasonPing
				c.p.cfg.Logger.LogAttrs(ctx, levelWarn, "pool: pre-ping failed, replacing connection",
					poolAttr(c.p), errAttr(err))
				return driver.ErrBadConn
			}
		}
	}
	c.checkout()
	return nil
}

// IsValid runs when a connection returns to the pool: a connection past its recycle age, or
// one the driver declares invalid, is closed instead of kept.
func (c *conn) IsValid() bool {
	now := time.Now()
	c.used = now
	c.inUse = false
	if c.leak != nil {
		c.leak.stop()
	}
	if c.expired(now) {
		c.reason = reasonRecycle
		return false
	}
	if v, ok := c.ci.(driver.Validator); ok && !v.IsValid() {
		c.reason = reasonBroken
		return false
	}
	return true
}

func (c *conn) Close() error {
	if c.leak != nil {
		c.leak.stop()
	}
	k := &c.p.counters
	switch c.reason {
	case reasonRecycle:
		k.closedRecycle.Add(1)
	case reasonPing:
		k.closedPing.Add(1)
	case reasonBroken:
		k.closedBroken.Add(1)
	}
	k.closed.Add(1)
	return c.ci.Close()
}

func (c *conn) echo(ctx context.Context, query string) {
	if c.p.cfg.Echo {
		c.p.cfg.Logger.LogAttrs(ctx, levelInfo, "pool: statement", poolAttr(c.p), sqlAttr(query))
	}
}

func (c *conn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *conn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	c.checkout()
	c.echo(ctx, query)
	if pc, ok := c.ci.(driver.ConnPrepareContext); ok {
		s, err := pc.PrepareContext(ctx, query)
		return s, c.markBad(err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s, err := c.ci.Prepare(query)
	return s, c.markBad(err)
}

// Begin is the pre-context form database/sql no longer calls when BeginTx exists.
func (c *conn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

var (
	errIsolation = errors.New("pool: driver does not support non-default isolation level")
	errReadOnly  = errors.New("pool: driver does not support read-only transactions")
)

func (c *conn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	c.checkout()
	if bc, ok := c.ci.(driver.ConnBeginTx); ok {
		tx, err := bc.BeginTx(ctx, opts)
		return tx, c.markBad(err)
	}
	if opts.Isolation != driver.IsolationLevel(0) {
		return nil, errIsolation
	}
	if opts.ReadOnly {
		return nil, errReadOnly
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	//lint:ignore SA1019 fallback for drivers without ConnBeginTx, as database/sql does
	tx, err := c.ci.Begin()
	return tx, c.markBad(err)
}

func (c *conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	c.checkout()
	if ec, ok := c.ci.(driver.ExecerContext); ok {
		c.echo(ctx, query)
		r, err := ec.ExecContext(ctx, query, args)
		return r, c.markBad(err)
	}
	//lint:ignore SA1019 older drivers implement only Execer
	if e, ok := c.ci.(driver.Execer); ok {
		vals, err := plainValues(args)
		if err != nil {
			return nil, err
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c.echo(ctx, query)
		r, err := e.Exec(query, vals)
		return r, c.markBad(err)
	}
	return nil, driver.ErrSkip
}

func (c *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	c.checkout()
	if qc, ok := c.ci.(driver.QueryerContext); ok {
		c.echo(ctx, query)
		r, err := qc.QueryContext(ctx, query, args)
		return r, c.markBad(err)
	}
	//lint:ignore SA1019 older drivers implement only Queryer
	if q, ok := c.ci.(driver.Queryer); ok {
		vals, err := plainValues(args)
		if err != nil {
			return nil, err
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		c.echo(ctx, query)
		r, err := q.Query(query, vals)
		return r, c.markBad(err)
	}
	return nil, driver.ErrSkip
}

// Ping pings through the driver when it can; database/sql treats a driver without Pinger as
// always reachable once it holds a connection.
func (c *conn) Ping(ctx context.Context) error {
	c.checkout()
	if p, ok := c.ci.(driver.Pinger); ok {
		return c.markBad(p.Ping(ctx))
	}
	return nil
}

// CheckNamedValue defers to the driver; ErrSkip makes database/sql apply its default
// conversion, exactly as if the wrapper were not there.
func (c *conn) CheckNamedValue(nv *driver.NamedValue) error {
	if nc, ok := c.ci.(driver.NamedValueChecker); ok {
		return nc.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

var errNamedArgs = errors.New("pool: driver does not support named arguments")

func plainValues(args []driver.NamedValue) ([]driver.Value, error) {
	vals := make([]driver.Value, len(args))
	for i, a := range args {
		if a.Name != "" {
			return nil, errNamedArgs
		}
		vals[i] = a.Value
	}
	return vals, nil
}

// counters are the pool's own event counts; database/sql keeps the rest (sql.DBStats).
type counters struct {
	opened, openErrors                              atomic.Int64
	closed, closedRecycle, closedPing, closedBroken atomic.Int64
	acquires, acquireTimeouts, leaks                atomic.Int64
}
