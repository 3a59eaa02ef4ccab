package pool_test

import (
	"context"
	"database/sql/driver"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-reussite/harden/pool"
)

func TestSetEnvironmentForms(t *testing.T) {
	// The defaults, written out as environment variables carry them.
	var c pool.Config
	for k, v := range map[string]string{
		pool.KeySize: "20", pool.KeyOverflow: "30", pool.KeyTimeout: "60", pool.KeyRecycle: "3600",
	} {
		require.NoError(t, c.Set(k, v))
	}
	assert.Equal(t, pool.Config{Size: 20, Overflow: 30, Timeout: time.Minute, Recycle: time.Hour}, c)

	cases := []struct {
		key, value string
		want       pool.Config
	}{
		{pool.KeySize, " 5 ", pool.Config{Size: 5}},
		{pool.KeyOverflow, "0", pool.Config{Overflow: pool.NoOverflow}},
		{pool.KeyOverflow, "-1", pool.Config{Overflow: pool.UnlimitedOverflow}},
		{pool.KeyTimeout, "2.5", pool.Config{Timeout: 2500 * time.Millisecond}},
		{pool.KeyTimeout, "1m30s", pool.Config{Timeout: 90 * time.Second}},
		{pool.KeyRecycle, "-1", pool.Config{Recycle: -1}},
		{pool.KeyRecycle, "30m", pool.Config{Recycle: 30 * time.Minute}},
		{pool.KeyPrePing, "false", pool.Config{DisablePrePing: true}},
		{pool.KeyPrePing, "true", pool.Config{}},
		{pool.KeyEcho, "1", pool.Config{Echo: true}},
		{pool.KeySize, "", pool.Config{}}, // unset variable: default kept
	}
	for _, tc := range cases {
		var c pool.Config
		require.NoError(t, c.Set(tc.key, tc.value), "%s=%q", tc.key, tc.value)
		assert.Equal(t, tc.want, c, "%s=%q", tc.key, tc.value)
	}
}

func TestSetRejects(t *testing.T) {
	for _, tc := range []struct{ key, value string }{
		{pool.KeySize, "0"}, {pool.KeySize, "-3"}, {pool.KeySize, "twenty"}, {pool.KeySize, "1e3"},
		{pool.KeySize, "99999999999999999999"}, {pool.KeySize, "70000"},
		{pool.KeyOverflow, "-2"}, {pool.KeyOverflow, "x"},
		{pool.KeyTimeout, "0"}, {pool.KeyTimeout, "-1"}, {pool.KeyTimeout, "NaN"}, {pool.KeyTimeout, "Inf"},
		{pool.KeyTimeout, "1e300"}, {pool.KeyTimeout, "1e-12"}, {pool.KeyTimeout, "soon"},
		{pool.KeyRecycle, "0"}, {pool.KeyRecycle, "-Inf"},
		{pool.KeyPrePing, "maybe"}, {pool.KeyEcho, "yes please"},
		{"pool_sizes", "1"}, {"", "1"},
	} {
		var c pool.Config
		err := c.Set(tc.key, tc.value)
		require.ErrorIs(t, err, pool.ErrInvalidConfig, "%s=%q", tc.key, tc.value)
		assert.Equal(t, pool.Config{}, c, "a rejected value leaves the config unchanged")
	}
}

func TestConfigDefaultsAndMapping(t *testing.T) {
	p, err := pool.Open("sqlite", sqliteFile(t), pool.Config{})
	require.NoError(t, err)
	defer p.Close()
	c := p.Config()
	assert.Equal(t, 20, c.Size)
	assert.Equal(t, 30, c.Overflow)
	assert.Equal(t, 60*time.Second, c.Timeout)
	assert.Equal(t, time.Hour, c.Recycle)
	assert.Equal(t, 6*time.Minute, c.RecycleJitter)
	assert.Equal(t, 500*time.Millisecond, c.PrePingIdle)
	assert.Equal(t, 2*time.Second, c.CheckTimeout)
	assert.Equal(t, "SELECT 1", c.CheckQuery)
	assert.Equal(t, "default", c.Name)
	assert.False(t, c.DisablePrePing)
	assert.Zero(t, c.LeakThreshold)
	assert.NotNil(t, c.Logger)
	assert.Equal(t, 50, p.MaxOpen())
	assert.Equal(t, 50, p.DB().Stats().MaxOpenConnections)

	for _, tc := range []struct {
		cfg     pool.Config
		maxOpen int
	}{
		{pool.Config{Size: 5, Overflow: pool.NoOverflow}, 5},
		{pool.Config{Size: 5, Overflow: pool.UnlimitedOverflow}, 0},
		{pool.Config{Size: 5, Overflow: 1}, 6},
	} {
		p, err := pool.Open("sqlite", sqliteFile(t), tc.cfg)
		require.NoError(t, err)
		assert.Equal(t, tc.maxOpen, p.MaxOpen())
		assert.Equal(t, tc.maxOpen, p.DB().Stats().MaxOpenConnections)
		require.NoError(t, p.Close())
	}
}

func TestConfigInvalid(t *testing.T) {
	for _, cfg := range []pool.Config{
		{Size: -1}, {Size: 1 << 20}, {Overflow: -3}, {Overflow: 1 << 20}, {Timeout: -time.Second},
		{Recycle: time.Minute, RecycleJitter: time.Minute}, {IdleTimeout: -1}, {LeakThreshold: -1},
		{CheckTimeout: -1},
	} {
		_, err := pool.Open("sqlite", ":memory:", cfg)
		require.ErrorIs(t, err, pool.ErrInvalidConfig, "%+v", cfg)
	}
	_, err := pool.New(nil, pool.Config{})
	require.ErrorIs(t, err, pool.ErrInvalidConfig)
	_, err = pool.Open("no-such-driver", "", pool.Config{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "unknown driver")
}

// FuzzSet: any key and value is parsed or rejected with ErrInvalidConfig; an accepted value
// always yields a config New accepts.
func FuzzSet(f *testing.F) {
	for _, kv := range [][2]string{
		{"pool_size", "20"}, {"max_overflow", "-1"}, {"pool_timeout", "0.001"}, {"pool_recycle", "1h"},
		{"pool_pre_ping", "F"}, {"echo", "TRUE"}, {"pool_timeout", "9223372036.9"}, {"x", "y"},
	} {
		f.Add(kv[0], kv[1])
	}
	f.Fuzz(func(t *testing.T, key, value string) {
		var c pool.Config
		if err := c.Set(key, value); err != nil {
			require.ErrorIs(t, err, pool.ErrInvalidConfig)
			require.Equal(t, pool.Config{}, c)
			return
		}
		p, err := pool.New(nopConnector{}, c)
		require.NoError(t, err, "%s=%q gave %+v", key, value, c)
		require.NoError(t, p.Close())
	})
}

// nopConnector lets New run without a database: New never connects.
type nopConnector struct{}

func (nopConnector) Connect(context.Context) (driver.Conn, error) { return nil, driver.ErrBadConn }
func (nopConnector) Driver() driver.Driver                        { return nil }
