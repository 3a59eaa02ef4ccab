package reliability

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Flood shape: floodWorkers clients, each sending its next request as soon as the
// previous answer came, but at most one per floodCycle, every request from a fresh
// address.
const (
	floodWorkers = 30
	floodCycle   = 100 * time.Millisecond
	// loginTarget is how fast a real user's login must succeed.
	loginTarget = 2 * time.Second
	// realLoginEvery is how often the real user logs in.
	realLoginEvery = 750 * time.Millisecond
)

// realAddrs is how many addresses the real user logs in from (each once before the
// phases, one after the other), so that its tries stay under the login route's 5 per
// minute per address.
func realAddrs() int { return size(20, 60) }

// floodKind is what the flooding clients send.
type floodKind int

const (
	noFlood floodKind = iota
	signupFlood
	loginFlood
)

func (k floodKind) String() string {
	return [...]string{"quiet", "sign-up flood", "failed-login flood"}[k]
}

// phaseResult is what one phase measured.
type phaseResult struct {
	config, me   Counts // GET /api/config, authenticated GET /api/auth/me
	login        Counts // the real user's logins
	loginInTime  atomic.Int64
	flood        Counts
	floodRetries atomic.Int64 // shed answers (503) to the flood
	badShed      atomic.Int64 // 503s without Retry-After or problem+json
}

// abuseRun is one nexus child and the real user's state.
type abuseRun struct {
	proc    *nexusProc
	api     *api
	token   string   // the real user's access token, for /api/auth/me
	addrs   []string // the real user's addresses
	nextIP  atomic.Int64
	nextTry atomic.Int64
}

// freshIP is an address no request used before (10.0.0.0/8, 16 million of them).
func (ar *abuseRun) freshIP() string {
	n := ar.nextIP.Add(1)
	return fmt.Sprintf("10.%d.%d.%d", n>>16&0xff, n>>8&0xff, n&0xff)
}

// newAbuseRun starts nexus on a fresh SQLite file with env, logs the real user (the demo
// student) in from each of its addresses and keeps a token.
func newAbuseRun(t *testing.T, env map[string]string) *abuseRun {
	vars := map[string]string{"DATABASE_URL": "sqlite://" + filepath.Join(t.TempDir(), "nexus.db")}
	for k, v := range env {
		vars[k] = v
	}
	p := startNexus(t, vars)
	ar := &abuseRun{proc: p, api: newAPI(p.URL)}
	t.Cleanup(ar.api.close)
	for i := range realAddrs() {
		ip := fmt.Sprintf("192.0.2.%d", i+1)
		ar.addrs = append(ar.addrs, ip)
		ar.token = ar.api.login(t, ip, demoStudent, demoPassword).AccessToken
	}
	return ar
}

// phase runs kind for d: the flood (if any), a reader calling /api/config and
// /api/auth/me in turn every 10 ms, and the real user logging in every realLoginEvery.
func (ar *abuseRun) phase(kind floodKind, d time.Duration) *phaseResult {
	res := &phaseResult{}
	ctx, cancel := context.WithTimeout(context.Background(), d+time.Minute)
	defer cancel()
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for w := range floodWorkers {
		if kind == noFlood {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; time.Now().Before(deadline); i++ {
				start := time.Now()
				var r reply
				if kind == signupFlood {
					r = ar.api.call(ctx, "POST", "/api/auth/register", ar.freshIP(), "", map[string]string{
						"email":    fmt.Sprintf("flood-%d-%d-%d@example.com", w, i, start.UnixNano()),
						"password": fmt.Sprintf("Flood-%x-quartz-violin", start.UnixNano()), "first_name": "Flood", "last_name": "Client", "role": "parent",
					})
				} else {
					r = ar.api.call(ctx, "POST", "/api/auth/login", ar.freshIP(), "", map[string]string{
						"email": fmt.Sprintf("nobody-%d-%d@example.com", w, i), "password": "wrong-password-123",
					})
				}
				res.flood.Add(r.status, r.took)
				if r.status == http.StatusServiceUnavailable {
					res.floodRetries.Add(1)
					if r.header.Get("Retry-After") == "" || !r.problemJSON() {
						res.badShed.Add(1)
					}
				}
				time.Sleep(floodCycle - time.Since(start))
			}
		}()
	}
	wg.Add(2)
	go func() { // the reader
		defer wg.Done()
		for time.Now().Before(deadline) {
			r := ar.api.call(ctx, "GET", "/api/config", "192.0.2.200", "", nil)
			res.config.Add(r.status, r.took)
			r = ar.api.call(ctx, "GET", "/api/auth/me", "192.0.2.200", ar.token, nil)
			res.me.Add(r.status, r.took)
			time.Sleep(10 * time.Millisecond)
		}
	}()
	go func() { // the real user
		defer wg.Done()
		var tries sync.WaitGroup
		for time.Now().Before(deadline) {
			ip := ar.addrs[int(ar.nextTry.Add(1))%len(ar.addrs)]
			tries.Add(1)
			go func() {
				defer tries.Done()
				r := ar.api.call(ctx, "POST", "/api/auth/login", ip, "", map[string]string{"email": demoStudent, "password": demoPassword})
				res.login.Add(r.status, r.took)
				if r.status == http.StatusOK && r.took <= loginTarget {
					res.loginInTime.Add(1)
				}
			}()
			time.Sleep(realLoginEvery)
		}
		tries.Wait()
	}()
	wg.Wait()
	return res
}

// ratio is a/b, formatted.
func ratio(a, b time.Duration) string {
	if b <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f×", float64(a)/float64(b))
}

// TestAbuseHashingFlood floods the password-hashing routes of a nexus on SQLite (the
// Docker image's default) from rotating addresses, and measures what everyone else sees;
// the same flood against a nexus without a hashing bound is the control.
func TestAbuseHashingFlood(t *testing.T) {
	sec := section(t, "Abuse: sign-up and failed-login floods on SQLite",
		fmt.Sprintf(`nexus on SQLite with its defaults (bcrypt cost 12; HASH_CONCURRENCY = GOMAXPROCS − 1, a queue of 4 × that, 1 s
timeout). %d flooding clients each send a sign-up, or a failed login for an unknown email, from a fresh
X-Forwarded-For address (the loopback proxy is trusted), the next as soon as the answer came but at most
one per %s each; the per-address limits never bite. Meanwhile a reader calls GET /api/config and an
authenticated GET /api/auth/me in turn every 10 ms, and the real user (the demo student) logs in every
%s from one of its %d usual addresses. Claims checked: no 5xx but the shed 503s, each with
Retry-After and problem+json, no transport error, no SQLITE_BUSY in the log (with or without the
bound: sign-ups hash before their write transaction). Figures against the targets (reported, not
asserted): p99 of the reads at most 3× quiet; the real user's login succeeds within %s in at least
95 %% of tries. The control is the same run with HASH_CONCURRENCY=4096 and HASH_QUEUE=-1 (no bound).`,
			floodWorkers, floodCycle, realLoginEvery, realAddrs(), loginTarget))
	d := time.Duration(size(10, 30)) * time.Second
	if load, err := os.ReadFile("/proc/loadavg"); err == nil {
		sec.Addf("Machine load average (1, 5, 15 min) at the start", "%s", strings.Join(strings.Fields(string(load))[:3], ", "))
	}
	for _, variant := range []struct {
		name    string
		env     map[string]string
		control bool
	}{
		{"gated", map[string]string{"HASH_CONCURRENCY": "0", "ARIA_CONCURRENCY": "8"}, false},
		{"control", map[string]string{"HASH_CONCURRENCY": "4096", "HASH_QUEUE": "-1"}, true},
	} {
		ar := newAbuseRun(t, variant.env)
		quiet := ar.phase(noFlood, d)
		qConfig, qMe := quiet.config.Quantile(0.99), quiet.me.Quantile(0.99)
		sec.Addf(variant.name+", quiet: p99 /api/config, /api/auth/me", "%s, %s (%d, %d requests)", qConfig.Round(10*time.Microsecond), qMe.Round(10*time.Microsecond), quiet.config.Total(), quiet.me.Total())
		sec.Addf(variant.name+", quiet: real user's login p50 / p99", "%s / %s (%d of %d within %s)",
			quiet.login.Quantile(0.5).Round(time.Millisecond), quiet.login.Quantile(0.99).Round(time.Millisecond), quiet.loginInTime.Load(), quiet.login.Total(), loginTarget)
		for _, kind := range []floodKind{signupFlood, loginFlood} {
			res := ar.phase(kind, d)
			name := variant.name + ", " + kind.String()
			pConfig, pMe := res.config.Quantile(0.99), res.me.Quantile(0.99)
			tries, inTime := res.login.Total(), int(res.loginInTime.Load())
			share := 0.0
			if tries > 0 {
				share = 100 * float64(inTime) / float64(tries)
			}
			met := func(ok bool) string {
				if ok {
					return "target met"
				}
				return "target NOT met"
			}
			sec.Addf(name+": flood answers", "%d in %s (%.0f/s): %s", res.flood.Total(), d, float64(res.flood.Total())/d.Seconds(), res.flood.Statuses())
			sec.Addf(name+": p99 /api/config", "%s = %s quiet (%s)", pConfig.Round(10*time.Microsecond), ratio(pConfig, qConfig), met(pConfig <= 3*qConfig))
			sec.Addf(name+": p99 /api/auth/me", "%s = %s quiet (%s)", pMe.Round(10*time.Microsecond), ratio(pMe, qMe), met(pMe <= 3*qMe))
			sec.Addf(name+": real user's logins within "+loginTarget.String(), "%d of %d = %.0f %% (p50 %s, p99 %s; %s) (%s)",
				inTime, tries, share, res.login.Quantile(0.5).Round(time.Millisecond), res.login.Quantile(0.99).Round(time.Millisecond), res.login.Statuses(), met(share >= 95))
			if variant.control {
				sec.Addf(name+": 5xx", "%d", res.flood.Of("5xx")+res.login.Of("5xx")+res.config.Of("5xx")+res.me.Of("5xx"))
				continue
			}
			// Correctness of the gated run.
			for what, c := range map[string]*Counts{"flood": &res.flood, "real user's logins": &res.login, "/api/config": &res.config, "/api/auth/me": &res.me} {
				if n := c.Of("5xx") - c.Status(http.StatusServiceUnavailable); n > 0 {
					t.Errorf("%s, %s: %d 5xx other than 503: %s", name, what, n, c.Statuses())
				}
				if n := c.Of("transport"); n > 0 {
					t.Errorf("%s, %s: %d transport errors", name, what, n)
				}
			}
			if n := res.config.Status(http.StatusServiceUnavailable) + res.me.Status(http.StatusServiceUnavailable); n > 0 {
				t.Errorf("%s: %d reads shed or unavailable", name, n)
			}
			if n := res.badShed.Load(); n > 0 {
				t.Errorf("%s: %d shed answers without Retry-After or problem+json", name, n)
			}
			if res.floodRetries.Load() == 0 {
				t.Errorf("%s: no flood request was shed: the flood did not reach the bound", name)
			}
			if strings.Contains(res.flood.Statuses(), "429") {
				t.Errorf("%s: the flood met a rate limit (%s): it must reach the hashing bound", name, res.flood.Statuses())
			}
		}
		// Sign-ups hash before their short write transaction: SQLite's write lock is never
		// waited on long enough to fail.
		for _, s := range []string{"SQLITE_BUSY", "database is locked"} {
			if lines := ar.proc.logs.Lines(s); len(lines) > 0 {
				t.Errorf("%s: %d log lines with %s, first %s", variant.name, len(lines), s, lines[0])
			}
		}
	}
}
