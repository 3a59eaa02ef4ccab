package observe

import (
	"context"
	"log/slog"
	"math"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewRejectsInvalidConfig(t *testing.T) {
	cases := map[string]Config{
		"negative id length":   {MaxRequestIDLength: -1},
		"bad header name":      {RequestIDHeader: "X Request"},
		"header with colon":    {RequestIDHeader: "X-Id:"},
		"rate above one":       {TracesSampleRate: 1.5},
		"negative rate":        {TracesSampleRate: -0.1},
		"NaN rate":             {TracesSampleRate: math.NaN()},
		"negative flush":       {FlushTimeout: -time.Second},
		"unsorted buckets":     {DurationBuckets: []float64{1, 0.5}},
		"duplicate buckets":    {DurationBuckets: []float64{1, 1}},
		"bad trusted proxy":    {TrustedProxies: []string{"10.0.0.0/99"}},
		"garbage proxy":        {TrustedProxies: []string{"proxy.local"}},
		"malformed sentry dsn": {SentryDSN: "not a dsn"},
		"dsn without key":      {SentryDSN: "http://127.0.0.1:1/1"},
	}
	for name, cfg := range cases {
		t.Run(name, func(t *testing.T) {
			o, err := New(cfg)
			assert.Nil(t, o)
			assert.ErrorIs(t, err, ErrInvalidConfig)
		})
	}
}

func TestNewDefaults(t *testing.T) {
	o, err := New(Config{})
	require.NoError(t, err)
	// Access lines go to standard output, encoded without slog.
	require.NotNil(t, o.fastLog)
	assert.Same(t, os.Stdout, o.fastLog.out.w)
	assert.True(t, o.logHandler.Enabled(context.Background(), slog.LevelInfo))
	assert.False(t, o.logHandler.Enabled(context.Background(), slog.LevelDebug))
	assert.Nil(t, o.cfg.Router)
	assert.Equal(t, "X-Request-Id", o.idHeader)
	assert.Equal(t, DefaultMaxRequestIDLength, o.cfg.MaxRequestIDLength)
	assert.Equal(t, DefaultUnmatchedRoute, o.cfg.UnmatchedRoute)
	assert.Equal(t, DefaultFlushTimeout, o.cfg.FlushTimeout)
	assert.Nil(t, o.metrics)
	assert.Nil(t, o.sentry)
	assert.NotNil(t, o.cfg.Logger)
}
