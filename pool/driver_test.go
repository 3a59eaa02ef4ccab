package pool_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-reussite/harden/pool"
)

// legacyConnector serves real SQLite connections through only the oldest driver
// interfaces, as drivers written before Go 1.8 do, so the wrapper's fallbacks are exercised
// against a real database.
type legacyConnector struct {
	dsn    string
	d      driver.Driver
	execer bool // expose Execer and Queryer too
}

func (c legacyConnector) Connect(context.Context) (driver.Conn, error) {
	ci, err := c.d.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	if c.execer {
		return execerConn{minimalConn{ci}}, nil
	}
	return minimalConn{ci}, nil
}
func (c legacyConnector) Driver() driver.Driver { return c.d }

// minimalConn has the three methods every driver.Conn has, nothing else.
type minimalConn struct{ ci driver.Conn }

func (c minimalConn) Prepare(q string) (driver.Stmt, error) { return newLegacyStmt(c.ci.Prepare(q)) }
func (c minimalConn) Close() error                          { return c.ci.Close() }

//lint:ignore SA1019 the point is the pre-context interface
func (c minimalConn) Begin() (driver.Tx, error) { return c.ci.Begin() }

// legacyStmt hides the statement's context methods.
type legacyStmt struct{ s driver.Stmt }

func newLegacyStmt(s driver.Stmt, err error) (driver.Stmt, error) {
	if err != nil {
		return nil, err
	}
	return legacyStmt{s}, nil
}

func (s legacyStmt) Close() error  { return s.s.Close() }
func (s legacyStmt) NumInput() int { return s.s.NumInput() }

//lint:ignore SA1019 the point is the pre-context interface
func (s legacyStmt) Exec(args []driver.Value) (driver.Result, error) { return s.s.Exec(args) }

//lint:ignore SA1019 the point is the pre-context interface
func (s legacyStmt) Query(args []driver.Value) (driver.Rows, error) { return s.s.Query(args) }

type execerConn struct{ minimalConn }

func (c execerConn) Exec(q string, args []driver.Value) (driver.Result, error) {
	//lint:ignore SA1019 the point is the pre-context interface
	return c.ci.(driver.Execer).Exec(q, args)
}

func (c execerConn) Query(q string, args []driver.Value) (driver.Rows, error) {
	//lint:ignore SA1019 the point is the pre-context interface
	return c.ci.(driver.Queryer).Query(q, args)
}

func sqliteDriver(t *testing.T) driver.Driver {
	db, err := sql.Open("sqlite", ":memory:")
	require.NoError(t, err)
	defer db.Close()
	return db.Driver()
}

func TestLegacyDriversThroughTheWrapper(t *testing.T) {
	for _, execer := range []bool{false, true} {
		name := map[bool]string{false: "Prepare only", true: "Execer and Queryer"}[execer]
		t.Run(name, func(t *testing.T) {
			p, err := pool.New(legacyConnector{dsn: sqliteFile(t), d: sqliteDriver(t), execer: execer},
				pool.Config{Size: 2, PrePingIdle: -1})
			require.NoError(t, err)
			defer p.Close()
			ctx := context.Background()

			_, err = p.ExecContext(ctx, "CREATE TABLE t (id INTEGER, v TEXT)")
			require.NoError(t, err)
			_, err = p.ExecContext(ctx, "INSERT INTO t VALUES (?, ?)", 1, "one")
			require.NoError(t, err)
			tx, err := p.BeginTx(ctx, nil)
			require.NoError(t, err)
			_, err = tx.ExecContext(ctx, "INSERT INTO t VALUES (?, ?)", 2, "two")
			require.NoError(t, err)
			require.NoError(t, tx.Commit())

			rows, err := p.QueryContext(ctx, "SELECT v FROM t WHERE id >= ? ORDER BY id", 1)
			require.NoError(t, err)
			var got []string
			for rows.Next() {
				var v string
				require.NoError(t, rows.Scan(&v))
				got = append(got, v)
			}
			require.NoError(t, rows.Close())
			assert.Equal(t, []string{"one", "two"}, got)

			// No Pinger: the pre-ping and Ping are no-ops rather than errors.
			for range 3 {
				require.NoError(t, p.DB().PingContext(ctx))
			}
			assert.Zero(t, p.Stats().ClosedPing)

			_, err = p.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
			require.ErrorContains(t, err, "read-only")
			_, err = p.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelSerializable})
			require.ErrorContains(t, err, "isolation")
			if execer {
				_, err = p.ExecContext(ctx, "INSERT INTO t VALUES (:id, 'x')", sql.Named("id", 3))
				require.ErrorContains(t, err, "named arguments")
			}
			cancelled, cancel := context.WithCancel(ctx)
			cancel()
			_, err = p.ExecContext(cancelled, "SELECT 1")
			require.ErrorIs(t, err, context.Canceled)
		})
	}
}
