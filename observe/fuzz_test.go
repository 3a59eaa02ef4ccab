package observe

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// FuzzRequestID feeds arbitrary X-Request-ID values through the middleware: the ID seen
// by the handler and echoed in the response is always safe and bounded, and equals the
// input exactly when the input was acceptable.
func FuzzRequestID(f *testing.F) {
	for _, s := range []string{"", "abc", "a b", strings.Repeat("x", 200), "\x00", `","level":"ERROR`, "é", "lb:1/2+3=4@5"} {
		f.Add(s)
	}
	o, err := New(Config{MaxRequestIDLength: 64, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var seen string
		h := o.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = RequestID(r.Context()) }))
		req := httptest.NewRequest("GET", "/", nil)
		req.Header["X-Request-Id"] = []string{in}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if !validRequestID(seen, 64) {
			t.Fatalf("unsafe id %q", seen)
		}
		if rec.Header().Get("X-Request-ID") != seen {
			t.Fatalf("echoed %q, context %q", rec.Header().Get("X-Request-ID"), seen)
		}
		if validRequestID(in, 64) != (seen == in) {
			t.Fatalf("input %q valid=%v but seen %q", in, validRequestID(in, 64), seen)
		}
	})
}

// FuzzTraceparent checks the parser never panics and accepts only well-formed values.
func FuzzTraceparent(f *testing.F) {
	for _, s := range []string{
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future",
		"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"00-00000000000000000000000000000000-00f067aa0ba902b7-01",
		"", "00-", strings.Repeat("-", 60),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		tp, ok := parseTraceparent(in)
		if !ok {
			if tp != (traceParent{}) {
				t.Fatalf("rejected input returned %+v", tp)
			}
			return
		}
		checkTraceparent(t, in, tp)
	})
}

// checkTraceparent fails t unless tp is what the accepted header in holds.
func checkTraceparent(t *testing.T, in string, tp traceParent) {
	t.Helper()
	if len(tp.traceID) != 32 || !isLowerHex(tp.traceID) || allZero(tp.traceID) {
		t.Fatalf("bad trace id %q from %q", tp.traceID, in)
	}
	if len(tp.spanID) != 16 || !isLowerHex(tp.spanID) || allZero(tp.spanID) {
		t.Fatalf("bad span id %q from %q", tp.spanID, in)
	}
	if in[:2] == "ff" || (in[:2] == "00" && len(in) != 55) {
		t.Fatalf("accepted invalid version in %q", in)
	}
	if in[3:35] != tp.traceID || in[36:52] != tp.spanID {
		t.Fatalf("ids not taken from their positions in %q", in)
	}
	if flags, err := strconv.ParseUint(in[53:55], 16, 8); err != nil || tp.sampled != (flags&1 == 1) {
		t.Fatalf("sampled %v for flags %q", tp.sampled, in[53:55])
	}
}

// FuzzScrubQuery checks that a sensitive parameter's value never survives scrubbing,
// whatever the surrounding query looks like.
func FuzzScrubQuery(f *testing.F) {
	f.Add("a=1&b=2", "s3cr3tvalue")
	f.Add("token=x&&=&%zz", "zzzzzzzz")
	f.Add("", "abcdefgh")
	s := newScrubber(&Config{})
	f.Fuzz(func(t *testing.T, q, secret string) {
		if len(secret) < 8 || strings.ContainsAny(secret, "&=%+;[]") || strings.Contains(q, secret) {
			return
		}
		in := q + "&password=" + secret + "&" + q
		out := s.query(in)
		if strings.Contains(out, "password="+secret) {
			t.Fatalf("secret survived: %q -> %q", in, out)
		}
	})
}

// FuzzMetricsToken sends arbitrary Authorization values to a token-protected
// MetricsHandler: the metrics are served exactly when the value is the "Bearer" scheme
// (any case) followed by the token, and every other request gets a 401 problem without
// them.
func FuzzMetricsToken(f *testing.F) {
	for _, s := range []string{"", "Bearer s3cret", "bearer s3cret", "BEARER  s3cret ", "Bearer s3cret0", "Basic czNjcmV0",
		"Bearer", "Bearer ", "Bearers3cret", "Bearer\ts3cret", "\x00Bearer s3cret"} {
		f.Add(s)
	}
	o, err := New(Config{Registerer: prometheus.NewRegistry(), MetricsToken: "s3cret", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		f.Fatal(err)
	}
	h := o.MetricsHandler()
	f.Fuzz(func(t *testing.T, auth string) {
		req := httptest.NewRequest("GET", "/metrics", nil)
		req.Header["Authorization"] = []string{auth}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		scheme, token, _ := strings.Cut(auth, " ")
		want := strings.EqualFold(scheme, "bearer") && strings.TrimSpace(token) == "s3cret"
		if want != (rec.Code == http.StatusOK) {
			t.Fatalf("Authorization %q answered %d", auth, rec.Code)
		}
		if want != strings.Contains(rec.Body.String(), MetricInFlight) {
			t.Fatalf("Authorization %q: metrics served %v", auth, !want)
		}
		if !want && rec.Header().Get("Content-Type") != "application/problem+json" {
			t.Fatalf("refusal of %q is %q", auth, rec.Header().Get("Content-Type"))
		}
	})
}
