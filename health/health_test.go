package health

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestNewRejectsInvalidConfig(t *testing.T) {
	long := strings.Repeat("x", 129)
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"unnamed check", Config{Checks: []Check{{Func: pass}}}, "without a name"},
		{"long name", Config{Checks: []Check{{Name: long, Func: pass}}}, "longer than 128"},
		{"no func", Config{Checks: []Check{{Name: "db"}}}, "has no Func"},
		{"negative check timeout", Config{Checks: []Check{{Name: "db", Func: pass, Timeout: -1}}}, "negative timeout"},
		{"duplicate", Config{Checks: []Check{{Name: "db", Func: pass}, {Name: "db", Func: pass}}}, "duplicate"},
		{"negative interval", Config{Interval: -time.Second}, "negative"},
		{"negative timeout", Config{Timeout: -time.Second}, "negative"},
		{"relative path", Config{ReadyPath: "ready"}, "does not start with /"},
		{"same paths", Config{LivePath: "/x", ReadyPath: "/x"}, "must differ"},
		{"short token", Config{Token: "short"}, "Token shorter"},
		{"bad cidr", Config{DetailCIDRs: []string{"10.0.0.0/33"}}, "DetailCIDRs"},
		{"bad address", Config{DetailCIDRs: []string{"not-an-ip"}}, "DetailCIDRs"},
		{"bad proxy", Config{TrustedProxies: []string{"300.1.1.1"}}, "TrustedProxies"},
		{"disk without path", Config{Checks: []Check{Disk("disk", DiskConfig{})}}, "Path is empty"},
		{"disk warn above fail", Config{Checks: []Check{Disk("disk", DiskConfig{Path: "/", WarnPercent: 99, FailPercent: 50})}}, "above FailPercent"},
		{"disk over 100", Config{Checks: []Check{Disk("disk", DiskConfig{Path: "/", FailPercent: 101})}}, "(0, 100]"},
		{"disk negative", Config{Checks: []Check{Disk("disk", DiskConfig{Path: "/", WarnPercent: -1})}}, "(0, 100]"},
		{"memory warn above fail", Config{Checks: []Check{Memory("mem", MemoryConfig{WarnBytes: 2, FailBytes: 1})}}, "above FailBytes"},
		{"sql nil", Config{Checks: []Check{SQL("db", nil)}}, "without a database"},
		{"sql nil *sql.DB", Config{Checks: []Check{SQL("db", (*sql.DB)(nil))}}, "without a database"},
		{"http bad url", Config{Checks: []Check{HTTP("api", HTTPConfig{URL: "://x"})}}, "HTTPConfig.URL"},
		{"http scheme", Config{Checks: []Check{HTTP("api", HTTPConfig{URL: "ftp://x/"})}}, "scheme"},
		{"http no host", Config{Checks: []Check{HTTP("api", HTTPConfig{URL: "http:///path"})}}, "no host"},
		{"http method", Config{Checks: []Check{HTTP("api", HTTPConfig{URL: "http://x/", Method: "GET /"})}}, "not a token"},
		{"http password redacted", Config{Checks: []Check{HTTP("api", HTTPConfig{URL: "gopher://u:s3cret@x/"})}}, "u:xxxxx@x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := New(tt.cfg)
			if err == nil {
				t.Fatalf("New accepted the config: %+v", h)
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("error %v does not wrap ErrInvalidConfig", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error leaks a password: %q", err)
			}
		})
	}
}

func TestNewDefaults(t *testing.T) {
	h := mustNew(t, Config{})
	if h.interval != defaultInterval || h.timeout != defaultTimeout {
		t.Errorf("interval %v timeout %v", h.interval, h.timeout)
	}
	if h.livePath != "/live" || h.readyPath != "/ready" || h.healthPath != "/health" {
		t.Errorf("paths %q %q %q", h.livePath, h.readyPath, h.healthPath)
	}
	rep := h.run(context.Background())
	if rep.Status != StatusPass || len(rep.Checks) != 0 || rep.Err() != nil {
		t.Errorf("empty report: %+v", rep)
	}
}

func TestNewCopiesChecks(t *testing.T) {
	checks := []Check{{Name: "a", Func: pass}}
	h := mustNew(t, Config{Checks: checks})
	checks[0].Func = func(context.Context) error { return errors.New("changed after New") }
	if rep := h.run(context.Background()); rep.Status != StatusPass {
		t.Errorf("New kept a reference to the caller's slice: %+v", rep)
	}
}

func TestNewMetricsRegistrationConflict(t *testing.T) {
	reg := prometheus.NewRegistry()
	mustNew(t, Config{Registerer: reg})
	if _, err := New(Config{Registerer: reg}); err == nil {
		t.Fatal("second New on the same registry did not report the conflict")
	}
}
