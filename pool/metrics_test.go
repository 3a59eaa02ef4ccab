package pool_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/nexus-reussite/harden/pool"
)

// sample returns the value of the metric name whose labels include want.
func sample(t *testing.T, g prometheus.Gatherer, name string, want map[string]string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, lp := range m.GetLabel() {
				got[lp.GetName()] = lp.GetValue()
			}
			for k, v := range want {
				if got[k] != v {
					continue next
				}
			}
			return value(m)
		}
	}
	t.Fatalf("no sample %s%v", name, want)
	return 0
}

func value(m *dto.Metric) float64 {
	switch {
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue()
	case m.GetCounter() != nil:
		return m.GetCounter().GetValue()
	case m.GetHistogram() != nil:
		return float64(m.GetHistogram().GetSampleCount())
	}
	return 0
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	p, err := pool.Open("sqlite", sqliteFile(t), pool.Config{
		Size: 1, Overflow: 1, Timeout: 50 * time.Millisecond, Name: "main", Registerer: reg,
	})
	require.NoError(t, err)
	defer p.Close()
	ctx := context.Background()
	l := map[string]string{"pool": "main"}

	assert.Equal(t, 2.0, sample(t, reg, "harden_pool_connections_max", l))
	a, err := p.Conn(ctx)
	require.NoError(t, err)
	b, err := p.Conn(ctx)
	require.NoError(t, err)
	for _, c := range []*sql.Conn{a, b} {
		require.NoError(t, c.PingContext(ctx))
	}
	_, err = p.Conn(ctx)
	require.ErrorIs(t, err, pool.ErrTimeout)

	assert.Equal(t, 2.0, sample(t, reg, "harden_pool_connections_open", l))
	assert.Equal(t, 2.0, sample(t, reg, "harden_pool_connections_in_use", l))
	assert.Equal(t, 0.0, sample(t, reg, "harden_pool_connections_idle", l))
	assert.Equal(t, 1.0, sample(t, reg, "harden_pool_utilization_ratio", l))
	assert.Equal(t, 1.0, sample(t, reg, "harden_pool_waits_total", l))
	assert.Greater(t, sample(t, reg, "harden_pool_wait_seconds_total", l), 0.04) // database/sql starts its clock a little after ours
	assert.Equal(t, 3.0, sample(t, reg, "harden_pool_acquires_total", l))
	assert.Equal(t, 3.0, sample(t, reg, "harden_pool_acquire_duration_seconds", l))
	assert.Equal(t, 1.0, sample(t, reg, "harden_pool_acquire_timeouts_total", l))
	assert.Equal(t, 2.0, sample(t, reg, "harden_pool_connections_opened_total", l))

	require.NoError(t, a.Close())
	require.NoError(t, b.Close()) // overflow: closed, since Size connections are idle
	assert.Equal(t, 1.0, sample(t, reg, "harden_pool_connections_closed_total", map[string]string{"pool": "main", "reason": "max_idle"}))
	assert.Equal(t, 0.0, sample(t, reg, "harden_pool_connections_closed_total", map[string]string{"pool": "main", "reason": "recycle"}))
	assert.Equal(t, 1.0, sample(t, reg, "harden_pool_connections_idle", l))
	assert.Equal(t, 0.0, sample(t, reg, "harden_pool_utilization_ratio", l))

	problems, err := testutil.CollectAndLint(p.Collector())
	require.NoError(t, err)
	assert.Empty(t, problems)

	// Names are unique per registry: a second pool needs its own Name, until the first closes.
	_, err = pool.Open("sqlite", sqliteFile(t), pool.Config{Name: "main", Registerer: reg})
	require.Error(t, err)
	other, err := pool.Open("sqlite", sqliteFile(t), pool.Config{Name: "replica", Registerer: reg})
	require.NoError(t, err)
	require.NoError(t, other.Close())
	require.NoError(t, p.Close())
	again, err := pool.Open("sqlite", sqliteFile(t), pool.Config{Name: "main", Registerer: reg})
	require.NoError(t, err)
	require.NoError(t, again.Close())
}

func TestStatsUtilization(t *testing.T) {
	var s pool.Stats
	assert.Zero(t, s.Utilization())
	s.MaxOpenConnections, s.InUse = 50, 10
	assert.InDelta(t, 0.2, s.Utilization(), 1e-9)
	s.MaxOpenConnections, s.OpenConnections = 0, 40
	assert.InDelta(t, 0.25, s.Utilization(), 1e-9, "unlimited: share of the open connections")
}
