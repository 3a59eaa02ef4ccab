package compress_test

import (
	"errors"
	"net/http"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/nexus-reussite/harden/compress"
)

// metricValue finds the counter value or histogram sample count of name{label=value}.
func metricValue(t *testing.T, reg *prometheus.Registry, name, label, value string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if hasLabel(m, label, value) {
				if h := m.GetHistogram(); h != nil {
					return float64(h.GetSampleCount())
				}
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func hasLabel(m *dto.Metric, name, value string) bool {
	for _, l := range m.GetLabel() {
		if l.GetName() == name && l.GetValue() == value {
			return true
		}
	}
	return false
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := mustNew(t, compress.Config{Registerer: reg, DecompressRequests: true, MaxDecompressedSize: 100})
	body := jsonBody(10 << 10)
	h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" {
			buf := make([]byte, 1000)
			for {
				if _, err := r.Body.Read(buf); err != nil {
					return
				}
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	rec := serve(h, "GET", "zstd", nil)
	serve(h, "GET", "zstd", nil)
	serve(h, "GET", "gzip", nil)
	serve(h, "GET", "", nil)

	if got := metricValue(t, reg, "harden_compress_responses_total", "encoding", "zstd"); got != 2 {
		t.Errorf("zstd responses %v, want 2", got)
	}
	if got := metricValue(t, reg, "harden_compress_responses_total", "encoding", "identity"); got != 1 {
		t.Errorf("identity responses %v, want 1", got)
	}
	if got := metricValue(t, reg, "harden_compress_bytes_in_total", "encoding", "zstd"); got != float64(2*len(body)) {
		t.Errorf("zstd bytes in %v, want %d", got, 2*len(body))
	}
	if got := metricValue(t, reg, "harden_compress_bytes_out_total", "encoding", "zstd"); got != float64(2*rec.Body.Len()) {
		t.Errorf("zstd bytes out %v, want %d", got, 2*rec.Body.Len())
	}
	if got := metricValue(t, reg, "harden_compress_ratio", "encoding", "gzip"); got != 1 {
		t.Errorf("gzip ratio observations %v, want 1", got)
	}

	post := func(ce string, data []byte) {
		r := httptestRequest("")
		r.Method = "POST"
		r.Header.Set("Content-Encoding", ce)
		r.Body = readCloser(data)
		h.ServeHTTP(nopWriter(), r)
	}
	post("gzip", compressBytes(t, "gzip", make([]byte, 50)))
	post("zstd", compressBytes(t, "zstd", make([]byte, 500)))
	post("br", []byte("x"))
	if got := metricValue(t, reg, "harden_compress_request_bodies_decoded_total", "encoding", "gzip"); got != 1 {
		t.Errorf("decoded gzip bodies %v, want 1", got)
	}
	if got := metricValue(t, reg, "harden_compress_request_bodies_rejected_total", "reason", "too_large"); got != 1 {
		t.Errorf("too_large rejections %v, want 1", got)
	}
	if got := metricValue(t, reg, "harden_compress_request_bodies_rejected_total", "reason", "unsupported_encoding"); got != 1 {
		t.Errorf("unsupported rejections %v, want 1", got)
	}
}

func TestMetricsRegisteredTwiceIsAnError(t *testing.T) {
	reg := prometheus.NewRegistry()
	mustNew(t, compress.Config{Registerer: reg})
	if _, err := compress.New(compress.Config{Registerer: reg}); !errors.Is(err, compress.ErrInvalidConfig) {
		t.Fatalf("second registration: %v", err)
	}
}
