package pool

import "database/sql"

// Stats is a snapshot of the pool: database/sql's own statistics plus the pool's counters.
type Stats struct {
	// DBStats is sql.DB.Stats: MaxOpenConnections, OpenConnections, InUse, Idle, WaitCount
	// and WaitDuration (waits for a connection, through the Pool or DB), and the connections
	// database/sql closed itself: MaxIdleClosed (returned while Size were idle),
	// MaxIdleTimeClosed (IdleTimeout) and MaxLifetimeClosed (idle past Recycle).
	sql.DBStats

	Opened     int64 // connections opened
	OpenErrors int64 // failed attempts to open a connection
	Closed     int64 // connections closed, for any reason

	ClosedRecycle int64 // closed by the pool past their jittered recycle age
	ClosedPing    int64 // closed because the pre-ping failed
	ClosedBroken  int64 // closed because the driver reported them broken (driver.ErrBadConn)

	Acquires        int64 // acquisitions through the Pool's methods
	AcquireTimeouts int64 // acquisitions that failed with ErrTimeout
	Leaks           int64 // connections reported held past LeakThreshold
}

// Utilization is InUse over MaxOpenConnections (over OpenConnections when unlimited), 0 to 1.
func (s Stats) Utilization() float64 {
	limit := s.MaxOpenConnections
	if limit == 0 {
		limit = s.OpenConnections
	}
	if limit == 0 {
		return 0
	}
	return float64(s.InUse) / float64(limit)
}

// Stats returns a snapshot of the pool.
func (p *Pool) Stats() Stats {
	k := &p.counters
	return Stats{
		DBStats:         p.db.Stats(),
		Opened:          k.opened.Load(),
		OpenErrors:      k.openErrors.Load(),
		Closed:          k.closed.Load(),
		ClosedRecycle:   k.closedRecycle.Load(),
		ClosedPing:      k.closedPing.Load(),
		ClosedBroken:    k.closedBroken.Load(),
		Acquires:        k.acquires.Load(),
		AcquireTimeouts: k.acquireTimeouts.Load(),
		Leaks:           k.leaks.Load(),
	}
}
