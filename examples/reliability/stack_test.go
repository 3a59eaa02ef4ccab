package reliability

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/nexus-reussite/harden/internal/testenv"
)

// redisPrefix is REDIS_PREFIX of every child: the start of its Redis keys and channels.
const redisPrefix = "nexus-reliability:"

// stack is a running nexus child with its own services.
type stack struct {
	nexus  *nexusProc
	api    *api
	db     *sql.DB // the test's database, opened directly (never through the proxy)
	redis  *testenv.RedisServer
	openai *fakeOpenAI
	proxy  *testenv.Proxy // between nexus and PostgreSQL, when asked for
}

// startStack starts a fresh PostgreSQL database, an own redis-server, the fake OpenAI
// server and nexus on them; with viaProxy nexus reaches PostgreSQL through a TCP proxy
// the test can cut. env adds to (or overrides) the child's environment.
func startStack(t *testing.T, viaProxy bool, env map[string]string) *stack {
	t.Helper()
	s := &stack{}
	var dsn string
	s.db, dsn = testenv.PostgresDB(t)
	s.redis = testenv.StartRedisServer(t)
	s.openai = startFakeOpenAI(t)
	nexusDSN := dsn
	if viaProxy {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		s.proxy = testenv.StartProxy(t, u.Host)
		u.Host = s.proxy.Addr()
		nexusDSN = u.String()
	}
	vars := map[string]string{"DATABASE_URL": nexusDSN, "REDIS_URL": s.redis.URL(), "REDIS_PREFIX": redisPrefix}
	for k, v := range s.openai.env() {
		vars[k] = v
	}
	for k, v := range env {
		vars[k] = v
	}
	s.nexus = startNexus(t, vars)
	s.api = newAPI(s.nexus.URL)
	t.Cleanup(s.api.close)
	return s
}

// section starts the test's report section; its verdict is set when the test ends.
func section(t *testing.T, name, claim string) *Section {
	sec := report.Section(name, claim)
	start := time.Now()
	t.Cleanup(func() {
		sec.Add("Test duration (setup to teardown)", time.Since(start))
		switch {
		case t.Skipped():
			sec.Verdict = "skipped"
		case t.Failed():
			sec.Verdict = "failed"
			for _, f := range sec.Figures {
				t.Logf("%s: %s", f.Name, f.Value)
			}
		default:
			sec.Verdict = "passed"
		}
	})
	return sec
}

// rssSampler records the child's RSS against the number of requests issued so far.
type rssSampler struct {
	mu      sync.Mutex
	samples []rssSample
	errs    int
}

type rssSample struct {
	issued int64
	rss    int64
}

// sample polls every interval until ctx ends.
func (r *rssSampler) sample(ctx context.Context, p *nexusProc, w *workload, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		rss, err := p.RSS()
		r.mu.Lock()
		if err != nil {
			r.errs++
		} else {
			r.samples = append(r.samples, rssSample{issued: w.issued.Load(), rss: rss})
		}
		r.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// peak is the highest RSS sampled while the issued count was in [from, to).
func (r *rssSampler) peak(from, to int64) (peak int64, n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.samples {
		if s.issued >= from && s.issued < to {
			peak = max(peak, s.rss)
			n++
		}
	}
	return peak, n
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
