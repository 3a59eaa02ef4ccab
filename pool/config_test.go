package pool_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-reussite/harden/pool"
)

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
