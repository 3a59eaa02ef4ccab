package pool

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Close reasons, the values of the reason label of harden_pool_connections_closed_total.
const (
	labelRecycle     = "recycle"      // past pool_recycle, closed by the pool or by database/sql
	labelMaxIdle     = "max_idle"     // returned while Size connections were already idle (overflow)
	labelIdleTimeout = "idle_timeout" // idle longer than IdleTimeout
	labelPing        = "ping_failed"  // pre-ping failed
	labelBroken      = "broken"       // driver reported the connection broken
)

// collector exports the pool's metrics. Values are read from Stats at scrape time; only the
// acquire-latency histogram is updated on the hot path.
type collector struct {
	p       *Pool
	acquire prometheus.Histogram

	max, open, inUse, idle, util *prometheus.Desc
	waits, waitSeconds           *prometheus.Desc
	opened, openErrors, closed   *prometheus.Desc
	acquires, timeouts, leaks    *prometheus.Desc
}

func newCollector(p *Pool) *collector {
	labels := prometheus.Labels{"pool": p.cfg.Name}
	desc := func(name, help string, variable ...string) *prometheus.Desc {
		return prometheus.NewDesc("harden_pool_"+name, help, variable, labels)
	}
	return &collector{
		p: p,
		acquire: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "harden_pool_acquire_duration_seconds",
			Help: "Time to acquire a connection through the pool's methods, timeouts included.",
			// From a free connection (tens of microseconds) to the default timeout.
			Buckets:     []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
			ConstLabels: labels,
		}),
		max:         desc("connections_max", "Bound on open connections (pool_size + max_overflow; 0: unlimited)."),
		open:        desc("connections_open", "Open connections, in use or idle."),
		inUse:       desc("connections_in_use", "Connections currently in use."),
		idle:        desc("connections_idle", "Idle connections."),
		util:        desc("utilization_ratio", "Connections in use over the bound on open connections."),
		waits:       desc("waits_total", "Acquisitions that had to wait for a connection."),
		waitSeconds: desc("wait_seconds_total", "Total time spent waiting for a connection."),
		opened:      desc("connections_opened_total", "Connections opened."),
		openErrors:  desc("connect_errors_total", "Failed attempts to open a connection."),
		closed:      desc("connections_closed_total", "Connections closed, by reason.", "reason"),
		acquires:    desc("acquires_total", "Acquisitions through the pool's methods."),
		timeouts:    desc("acquire_timeouts_total", "Acquisitions that failed after pool_timeout."),
		leaks:       desc("leaks_total", "Connections reported held past the leak threshold."),
	}
}

// Collector returns the pool's Prometheus collector (harden_pool_* metrics, labelled
// pool=Config.Name), for registries New did not register it with.
func (p *Pool) Collector() prometheus.Collector { return p.metrics }

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.max, c.open, c.inUse, c.idle, c.util, c.waits, c.waitSeconds,
		c.opened, c.openErrors, c.closed, c.acquires, c.timeouts, c.leaks} {
		ch <- d
	}
	c.acquire.Describe(ch)
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	s := c.p.Stats()
	gauge := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v)
	}
	counter := func(d *prometheus.Desc, v float64, label ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, label...)
	}
	gauge(c.max, float64(s.MaxOpenConnections))
	gauge(c.open, float64(s.OpenConnections))
	gauge(c.inUse, float64(s.InUse))
	gauge(c.idle, float64(s.Idle))
	gauge(c.util, s.Utilization())
	counter(c.waits, float64(s.WaitCount))
	counter(c.waitSeconds, s.WaitDuration.Seconds())
	counter(c.opened, float64(s.Opened))
	counter(c.openErrors, float64(s.OpenErrors))
	counter(c.closed, float64(s.ClosedRecycle+s.MaxLifetimeClosed), labelRecycle)
	counter(c.closed, float64(s.MaxIdleClosed), labelMaxIdle)
	counter(c.closed, float64(s.MaxIdleTimeClosed), labelIdleTimeout)
	counter(c.closed, float64(s.ClosedPing), labelPing)
	counter(c.closed, float64(s.ClosedBroken), labelBroken)
	counter(c.acquires, float64(s.Acquires))
	counter(c.timeouts, float64(s.AcquireTimeouts))
	counter(c.leaks, float64(s.Leaks))
	c.acquire.Collect(ch)
}

// observeAcquire records one acquisition's latency.
func (c *collector) observeAcquire(d time.Duration) { c.acquire.Observe(d.Seconds()) }
