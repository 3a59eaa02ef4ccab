package ratelimitbench

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"

	"github.com/nexus-reussite/harden/ratelimit"
)

// overloadDuration is how long each overload scenario offers load.
const overloadDuration = 10 * time.Second

// TestConcurrencyOverloadReport offers a bcrypt (cost 12) login route ten times the
// requests per second it can serve, over a real HTTP server, with a cheap route served
// alongside, and reports latencies behind a concurrency gate and without one (the
// control). It is a report, not an assertion: it runs only when -run names it, takes
// about three minutes, and wants a machine as quiet as can be found:
//
//	go test -run TestConcurrencyOverloadReport -v ./ratelimit/
func TestConcurrencyOverloadReport(t *testing.T) {
	if run := flag.Lookup("test.run").Value.String(); !strings.Contains(run, "Overload") {
		t.Skip("a report: run it with -run TestConcurrencyOverloadReport -v")
	}
	const password = "correct horse battery staple"
	hash, err := bcrypt.GenerateFromPassword([]byte(password), 12)
	if err != nil {
		t.Fatal(err)
	}
	login := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil {
			http.Error(w, "wrong password", http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	cheap := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"formulas":[{"id":1,"name":"Terminale"}]}`)
	})
	server := func(gate *ratelimit.Concurrency) *httptest.Server {
		mux := http.NewServeMux()
		if gate != nil {
			mux.Handle("POST /login", gate.Handler(login))
		} else {
			mux.Handle("POST /login", login)
		}
		mux.Handle("GET /formulas", cheap)
		return httptest.NewServer(mux)
	}

	load, _ := os.ReadFile("/proc/loadavg")
	t.Logf("GOMAXPROCS %d, load average before: %s", runtime.GOMAXPROCS(0), strings.TrimSpace(string(load)))

	// Unloaded: the login route alone, one request at a time, then the cheap route alone.
	srv := server(nil)
	client := overloadClient()
	var alone []time.Duration
	for range 12 {
		res := fire(client, srv.URL+"/login", http.MethodPost)
		if res.status != http.StatusNoContent {
			t.Fatalf("login: %d", res.status)
		}
		alone = append(alone, res.took)
	}
	service := pct(alone, 50)
	capacity := float64(runtime.GOMAXPROCS(0)) / service.Seconds()
	offered := 10 * capacity
	cheapAlone := openLoop(client, srv.URL+"/formulas", http.MethodGet, 50, overloadDuration)
	srv.Close()
	t.Logf("unloaded: login p50 %v p99 %v (capacity about %.1f/s, offered %.0f/s); cheap route p50 %v p99 %v",
		ms(service), ms(pct(alone, 99)), capacity, offered, ms(pct(okOnly(cheapAlone), 50)), ms(pct(okOnly(cheapAlone), 99)))

	scenarios := []struct {
		name string
		cfg  *ratelimit.ConcurrencyConfig
	}{
		{"gate, fixed limit GOMAXPROCS-1", &ratelimit.ConcurrencyConfig{Name: "fixed_minus_1", Limit: max(1, runtime.GOMAXPROCS(0)-1)}},
		{"gate, fixed limit GOMAXPROCS", &ratelimit.ConcurrencyConfig{Name: "fixed", Limit: runtime.GOMAXPROCS(0)}},
		{"gate, adaptive (zero config)", &ratelimit.ConcurrencyConfig{Name: "adaptive"}},
		{"no gate (control)", nil},
	}
	for _, sc := range scenarios {
		reg := prometheus.NewRegistry()
		var gate *ratelimit.Concurrency
		if sc.cfg != nil {
			sc.cfg.Registerer = reg
			if gate, err = ratelimit.NewConcurrency(*sc.cfg); err != nil {
				t.Fatal(err)
			}
		}
		srv := server(gate)
		client := overloadClient()
		var wg sync.WaitGroup
		var logins, cheaps []result
		start := time.Now()
		wg.Go(func() { logins = openLoop(client, srv.URL+"/login", http.MethodPost, offered, overloadDuration) })
		wg.Go(func() { cheaps = openLoop(client, srv.URL+"/formulas", http.MethodGet, 50, overloadDuration) })
		var limits []string
		for gate != nil && time.Since(start) < overloadDuration {
			time.Sleep(500 * time.Millisecond)
			limits = append(limits, gauge(t, reg, "harden_concurrency_limit"))
		}
		wg.Wait()
		elapsed := time.Since(start)
		srv.Close()
		admitted, shed, lost := split(logins)
		// A shed answer sooner than half the queue timeout is a request shed at once;
		// the others waited in the queue until it timed out.
		var atOnce []time.Duration
		for _, d := range shed {
			if d < time.Second/2 {
				atOnce = append(atOnce, d)
			}
		}
		t.Logf("%s: %d logins offered in %v, %d served (%.1f/s until the last answer, at %v) p50 %v p99 %v, %d unanswered after %v; %d shed, %d at once p50 %v p90 %v p99 %v, all p99 %v; cheap route p50 %v p99 %v (%.2f× unloaded p99)",
			sc.name, len(logins), overloadDuration, len(admitted), float64(len(admitted))/elapsed.Seconds(), elapsed.Round(100*time.Millisecond),
			ms(pct(admitted, 50)), ms(pct(admitted, 99)), lost, client.Timeout,
			len(shed), len(atOnce), ms(pct(atOnce, 50)), ms(pct(atOnce, 90)), ms(pct(atOnce, 99)), ms(pct(shed, 99)),
			ms(pct(okOnly(cheaps), 50)), ms(pct(okOnly(cheaps), 99)),
			float64(pct(okOnly(cheaps), 99))/float64(pct(okOnly(cheapAlone), 99)))
		if gate != nil {
			t.Logf("    %s; limit every 500 ms: %s", gateState(t, reg), strings.Join(limits, " "))
		}
	}
	load, _ = os.ReadFile("/proc/loadavg")
	t.Logf("load average after: %s", strings.TrimSpace(string(load)))
}

type result struct {
	status int
	took   time.Duration
}

func overloadClient() *http.Client {
	return &http.Client{
		Transport: &http.Transport{MaxIdleConnsPerHost: 2000, IdleConnTimeout: time.Minute},
		Timeout:   time.Minute,
	}
}

func fire(client *http.Client, url, method string) result {
	req, err := http.NewRequestWithContext(context.Background(), method, url, nil)
	if err != nil {
		panic(err)
	}
	start := time.Now()
	res, err := client.Do(req)
	if err != nil {
		return result{status: -1, took: time.Since(start)}
	}
	_, _ = io.Copy(io.Discard, res.Body)
	_ = res.Body.Close()
	return result{status: res.StatusCode, took: time.Since(start)}
}

// openLoop sends rate requests per second for d, each from its own goroutine whatever
// became of the previous ones, and returns their results once all have answered.
func openLoop(client *http.Client, url, method string, rate float64, d time.Duration) []result {
	interval := time.Duration(float64(time.Second) / rate)
	n := int(d / interval)
	out := make([]result, n)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		time.Sleep(time.Until(start.Add(time.Duration(i) * interval)))
		wg.Go(func() { out[i] = fire(client, url, method) })
	}
	wg.Wait()
	return out
}

// split separates the served logins from the shed ones, and counts those that got no
// answer before the client gave up.
func split(rs []result) (served, shed []time.Duration, lost int) {
	for _, r := range rs {
		switch r.status {
		case http.StatusNoContent:
			served = append(served, r.took)
		case http.StatusServiceUnavailable:
			shed = append(shed, r.took)
		case -1:
			lost++
		}
	}
	return served, shed, lost
}

func okOnly(rs []result) []time.Duration {
	var out []time.Duration
	for _, r := range rs {
		if r.status == http.StatusOK {
			out = append(out, r.took)
		}
	}
	return out
}

// pct returns the p-th percentile of d (nearest rank), or 0 for none.
func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.5) - 1
	return s[min(len(s)-1, max(0, i))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond)) }

// gateState reports the gate's shed requests by reason.
func gateState(t *testing.T, reg *prometheus.Registry) string {
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, mf := range mfs {
		if mf.GetName() != "harden_concurrency_shed_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == "reason" && m.GetCounter().GetValue() > 0 {
					parts = append(parts, fmt.Sprintf("shed %s %.0f", lp.GetValue(), m.GetCounter().GetValue()))
				}
			}
		}
	}
	return strings.Join(parts, ", ")
}

// gauge returns the value of the gauge called name.
func gauge(t *testing.T, reg *prometheus.Registry, name string) string {
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return fmt.Sprintf("%.0f", mf.GetMetric()[0].GetGauge().GetValue())
		}
	}
	return "?"
}
