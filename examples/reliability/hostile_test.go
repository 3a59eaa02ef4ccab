package reliability

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
)

// allowedHost is ALLOWED_HOSTS in the hostile test (development also accepts 127.0.0.1).
const allowedHost = "api.nexus-reussite.test"

// readHeaderTimeout is nexus's http.Server ReadHeaderTimeout.
const readHeaderTimeout = 10 * time.Second

// hostileCase is one hostile request and the statuses that are a right answer.
type hostileCase struct {
	name string
	want []int
	send func(ctx context.Context) (status int, detail string)
}

// TestHostileTraffic sends hostile and malformed requests, alongside slowloris
// connections and legitimate traffic, to a backend that trusts no proxy.
func TestHostileTraffic(t *testing.T) {
	sec := section(t, "Hostile traffic",
		`A backend trusting no proxy (TRUSTED_PROXIES empty, ALLOWED_HOSTS set) receives oversized
bodies and headers, slowloris connections, Host injection, spoofed X-Forwarded-For, malformed
JSON, invalid UTF-8, path traversal, decompression bombs and unsupported content codings,
while a legitimate client keeps reading. Claims: each is answered with the listed status (a
4xx; the ignored X-Forwarded-Host gets an ordinary 200 that does not reflect it, and a valid
gzip-encoded JSON booking is created), never a 5xx; slowloris connections are closed
by the server at its header timeout while legitimate requests are served; afterwards the
server is ready, serves an authenticated read and a booking, and its goroutines and memory are
back near where they started.`)
	st := startStack(t, false, map[string]string{"TRUSTED_PROXIES": "", "ALLOWED_HOSTS": allowedHost})
	a := st.api
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	student := a.login(t, "", demoStudent, demoPassword)
	goroutinesBefore := goroutines(t, a)
	rssBefore, err := st.nexus.RSS()
	if err != nil {
		t.Fatal(err)
	}

	// Legitimate traffic throughout.
	var legit Counts
	legitStop := make(chan struct{})
	var legitWG sync.WaitGroup
	legitWG.Add(1)
	go func() {
		defer legitWG.Done()
		for {
			r := a.call(ctx, "GET", "/api/formulas/1", "", "", nil)
			legit.Add(r.status, r.took)
			select {
			case <-legitStop:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()

	// Slowloris: connections that send their headers one byte per second.
	slowConns := size(64, 512)
	slowDone := make(chan slowlorisResult, 1)
	go func() { slowDone <- slowloris(ctx, st.nexus.Addr, slowConns) }()

	results := map[string]string{}
	for _, c := range hostileCases(a, st.nexus.Addr, student.AccessToken) {
		status, detail := c.send(ctx)
		results[c.name] = fmt.Sprintf("%d%s", status, detail)
		sec.Addf(c.name, "%d%s (want %s)", status, detail, joinInts(c.want))
		if !slices.Contains(c.want, status) {
			t.Errorf("%s: got %d%s, want one of %v", c.name, status, detail, c.want)
		}
	}

	sl := <-slowDone
	close(legitStop)
	legitWG.Wait()
	sec.Addf("Slowloris", "%d connections; %d closed by the server, the last %s after opening (header timeout %s); %d still open",
		slowConns, sl.closed, sl.lastClose.Round(100*time.Millisecond), readHeaderTimeout, sl.open)
	sec.Addf("Legitimate reads meanwhile", "%d: %s; p99 %s", legit.Total(), legit.Statuses(), legit.Quantile(0.99).Round(time.Millisecond))
	if sl.open > 0 || sl.closed != slowConns || sl.lastClose > readHeaderTimeout+5*time.Second {
		t.Errorf("slowloris: %d of %d closed by the server, last after %s; %d left open", sl.closed, slowConns, sl.lastClose, sl.open)
	}
	if sl.err != nil {
		t.Errorf("slowloris: %v", sl.err)
	}
	if legit.Total() == 0 || legit.Status(http.StatusOK) != legit.Total() {
		t.Errorf("legitimate reads during the attack: %s", legit.Statuses())
	}

	// Healthy afterwards.
	if err := st.nexus.waitReady(5 * time.Second); err != nil {
		t.Errorf("not ready after the hostile traffic: %v", err)
	}
	a.close()
	a.must(t, http.StatusOK, "GET", "/api/auth/me", "", student.AccessToken, nil)
	a.must(t, http.StatusCreated, "POST", "/api/bookings", "", student.AccessToken,
		map[string]any{"teacher_id": teacherID(t, a, student.AccessToken), "starts_at": time.Now().UTC().Truncate(time.Hour).Add(72 * time.Hour).Format(time.RFC3339), "format": "online"})
	var goroutinesAfter int
	settle, _ := pollUntil(10*time.Second, func() bool {
		goroutinesAfter = goroutines(t, a)
		return goroutinesAfter <= goroutinesBefore+10
	})
	rssAfter, err := st.nexus.RSS()
	if err != nil {
		t.Fatal(err)
	}
	sec.Addf("Goroutines", "%d before, %d after (settled in %s)", goroutinesBefore, goroutinesAfter, settle.Round(100*time.Millisecond))
	sec.Addf("RSS", "%s before, %s after", mib(rssBefore), mib(rssAfter))
	if goroutinesAfter > goroutinesBefore+10 {
		t.Errorf("goroutines: %d before, %d after: something is left hanging", goroutinesBefore, goroutinesAfter)
	}
	if rssAfter > rssBefore+96<<20 {
		t.Errorf("RSS grew from %s to %s", mib(rssBefore), mib(rssAfter))
	}
}

// teacherID is the first teacher's id.
func teacherID(t *testing.T, a *api, token string) int64 {
	t.Helper()
	var body struct {
		Teachers []struct {
			ID int64 `json:"id"`
		} `json:"teachers"`
	}
	if err := a.must(t, http.StatusOK, "GET", "/api/teachers", "", token, nil).decode(&body); err != nil || len(body.Teachers) == 0 {
		t.Fatalf("teachers: %v", err)
	}
	return body.Teachers[0].ID
}

// joinInts renders statuses as "400 or 413".
func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, " or ")
}

// goroutines reads go_goroutines from /metrics.
func goroutines(t *testing.T, a *api) int {
	t.Helper()
	r := a.must(t, http.StatusOK, "GET", "/metrics", "", "", nil)
	for _, line := range strings.Split(string(r.body), "\n") {
		if v, ok := strings.CutPrefix(line, "go_goroutines "); ok {
			n, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				t.Fatalf("go_goroutines %q: %v", v, err)
			}
			return int(n)
		}
	}
	t.Fatal("no go_goroutines in /metrics")
	return 0
}

// hostileCases are the hostile requests, in the order they are sent.
func hostileCases(a *api, addr, token string) []hostileCase {
	status := func(r reply) (int, string) {
		if r.err != nil {
			return 0, " (" + r.err.Error() + ")"
		}
		if r.status >= 400 && !r.problemJSON() && r.status != http.StatusRequestHeaderFieldsTooLarge && r.status != http.StatusBadRequest {
			return r.status, " (not problem+json)"
		}
		return r.status, ""
	}
	// JSON cases go to POST /api/bookings (authenticated, no route limit) so that the
	// login route's "5 per minute" stays for the spoofing case; register ("3 per
	// minute") takes the two UTF-8 cases.
	post := func(path string, body any, hdr ...string) func(context.Context) (int, string) {
		return func(ctx context.Context) (int, string) {
			return status(a.call(ctx, "POST", path, "", token, body, hdr...))
		}
	}
	raw := func(request string) func(context.Context) (int, string) {
		return func(ctx context.Context) (int, string) { return rawRequest(ctx, addr, request) }
	}
	booking := `{"teacher_id":2,"starts_at":"2030-01-01T10:00:00Z","format":"online"}`
	register := func(first string) string {
		return `{"email":"utf8-` + strconv.Itoa(len(first)) + `@example.com","password":"password-123","first_name":"` + first + `","last_name":"X","role":"parent"}`
	}
	return []hostileCase{
		{"Spoofed X-Forwarded-For on login (new address each attempt)", []int{429}, func(ctx context.Context) (int, string) {
			// One login was spent before; the route allows 5 per minute per client.
			for i := range 10 {
				r := a.call(ctx, "POST", "/api/auth/login", fmt.Sprintf("203.0.113.%d", i+1), "", `{"email":"eleve@nexus-reussite.com","password":"wrong-password"}`)
				if r.status != http.StatusUnauthorized {
					st, detail := status(r)
					return st, fmt.Sprintf("%s at attempt %d", detail, i+1)
				}
			}
			return http.StatusUnauthorized, " (10 attempts, never limited)"
		}},
		{"Body over MAX_CONTENT_LENGTH (17 MiB, Content-Length)", []int{413}, post("/api/bookings", bytes.Repeat([]byte(" "), 17<<20))},
		{"Body over MAX_CONTENT_LENGTH (17 MiB, chunked)", []int{413}, func(ctx context.Context) (int, string) {
			return status(a.call(ctx, "POST", "/api/bookings", "", token, io.MultiReader(strings.NewReader(`{"format":"`), &zeroReader{n: 17 << 20})))
		}},
		{"JSON body over 1 MiB", []int{413}, post("/api/bookings", `{"format":"`+strings.Repeat("a", 2<<20)+`"}`)},
		{"Header of 100 KiB", []int{431}, func(ctx context.Context) (int, string) {
			return status(a.call(ctx, "GET", "/api/formulas", "", "", nil, "X-Padding", strings.Repeat("a", 100<<10)))
		}},
		{"Host header injection", []int{400}, func(ctx context.Context) (int, string) {
			return status(a.call(ctx, "GET", "/api/formulas", "", "", nil, "Host", "evil.example"))
		}},
		{"Absolute-form request line to another host", []int{400}, raw("GET http://evil.example/api/formulas HTTP/1.1\r\nHost: evil.example\r\n\r\n")},
		{"X-Forwarded-Host from an untrusted peer (ignored)", []int{200}, func(ctx context.Context) (int, string) {
			r := a.call(ctx, "GET", "/", "", "", nil, "X-Forwarded-Host", "evil.example", "X-Forwarded-Proto", "https")
			if bytes.Contains(r.body, []byte("evil.example")) || strings.Contains(fmt.Sprint(r.header), "evil.example") {
				return r.status, " (the injected host was reflected)"
			}
			return status(r)
		}},
		{"Malformed JSON", []int{400}, post("/api/bookings", `{"teacher_id": 2, "starts_at": `)},
		{"JSON of the wrong shape", []int{400}, post("/api/bookings", `["teacher_id", 2]`)},
		{"JSON with unknown fields", []int{400}, post("/api/bookings", `{"teacher_id":2,"status":"confirmed","student_id":1,"is_admin":true}`)},
		{"Two JSON documents", []int{400}, post("/api/bookings", booking+booking)},
		{"JSON nested 100 000 deep", []int{400}, post("/api/bookings", strings.Repeat("[", 100000))},
		{"Wrong Content-Type", []int{415}, post("/api/bookings", booking, "Content-Type", "text/plain")},
		{"Invalid UTF-8 in a JSON string", []int{400}, func(ctx context.Context) (int, string) {
			return status(a.call(ctx, "POST", "/api/auth/register", "", "", register("\xff\xfe\xfd")))
		}},
		{"Overlong UTF-8 encoding of '/'", []int{400}, func(ctx context.Context) (int, string) {
			return status(a.call(ctx, "POST", "/api/auth/register", "", "", register("\xc0\xaf")))
		}},
		{"Invalid UTF-8 in the path", []int{404}, raw("GET /api/formulas/\xff HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")},
		{"Invalid UTF-8 in the Authorization header", []int{401}, func(ctx context.Context) (int, string) {
			return status(a.call(ctx, "GET", "/api/auth/me", "", "\xff\xfe", nil))
		}},
		{"NUL byte in the request line", []int{400}, raw("GET /api/\x00formulas HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")},
		{"Path traversal /../../etc/passwd", []int{404}, traversal(addr, "/../../etc/passwd")},
		{"Path traversal %2e%2e%2f", []int{404}, traversal(addr, "/%2e%2e/%2e%2e/etc/passwd")},
		{"Path traversal in an {id}", []int{404}, traversal(addr, "/api/formulas/..%2f..%2f..%2fetc%2fpasswd")},
		{"Path traversal with backslashes", []int{404}, traversal(addr, "/api/..\\..\\etc\\passwd")},
		{"gzip bomb (10 MiB of zeros in ~10 KiB)", []int{413}, func(ctx context.Context) (int, string) {
			return status(a.call(ctx, "POST", "/api/bookings", "", token, bomb("gzip"), "Content-Encoding", "gzip"))
		}},
		{"zstd bomb (64 MiB of zeros)", []int{413}, func(ctx context.Context) (int, string) {
			return status(a.call(ctx, "POST", "/api/aria/chat", "", token, bomb("zstd"), "Content-Encoding", "zstd"))
		}},
		{"zstd bomb, chunked", []int{413}, func(ctx context.Context) (int, string) {
			return status(a.call(ctx, "POST", "/api/bookings", "", token, io.MultiReader(bytes.NewReader(bomb("zstd"))), "Content-Encoding", "zstd"))
		}},
		{"Unsupported Content-Encoding (br)", []int{415}, post("/api/bookings", booking, "Content-Encoding", "br")},
		{"Valid gzip JSON body (a booking)", []int{201}, func(ctx context.Context) (int, string) {
			var teachers struct {
				Teachers []struct {
					ID int64 `json:"id"`
				} `json:"teachers"`
			}
			r := a.call(ctx, "GET", "/api/teachers", "", token, nil)
			if err := r.decode(&teachers); err != nil || len(teachers.Teachers) == 0 {
				return r.status, fmt.Sprintf(" (listing the teachers: %v)", err)
			}
			body := fmt.Sprintf(`{"teacher_id":%d,"starts_at":%q,"format":"online"}`,
				teachers.Teachers[0].ID, time.Now().UTC().Truncate(time.Hour).Add(120*time.Hour).Format(time.RFC3339))
			return status(a.call(ctx, "POST", "/api/bookings", "", token, gzipped(body), "Content-Encoding", "gzip"))
		}},
		{"JWT with alg none", []int{401}, func(ctx context.Context) (int, string) {
			return status(a.call(ctx, "GET", "/api/auth/me", "", "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiIxIiwicm9sZSI6ImFkbWluIiwidHlwIjoiYWNjZXNzIn0.", nil))
		}},
		{"Unknown method", []int{405}, raw("BREW /api/formulas HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")},
	}
}

// zeroReader yields n bytes of '0' (a JSON string body that never ends in time).
type zeroReader struct{ n int }

func (z *zeroReader) Read(p []byte) (int, error) {
	if z.n <= 0 {
		return 0, io.EOF
	}
	n := min(len(p), z.n)
	for i := range n {
		p[i] = '0'
	}
	z.n -= n
	return n, nil
}

// bomb compresses a large run of zeros.
func bomb(encoding string) []byte {
	var b bytes.Buffer
	switch encoding {
	case "gzip":
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		_, _ = io.Copy(zw, &zeroReader{n: 10 << 20})
		_ = zw.Close()
	case "zstd":
		zw, _ := zstd.NewWriter(&b, zstd.WithEncoderLevel(zstd.SpeedBestCompression))
		_, _ = io.Copy(zw, &zeroReader{n: 64 << 20})
		_ = zw.Close()
	}
	return b.Bytes()
}

// gzipped is s compressed with gzip.
func gzipped(s string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, _ = io.WriteString(zw, s)
	_ = zw.Close()
	return b.Bytes()
}

// rawRequest writes request as is on a new connection and returns the response status.
func rawRequest(ctx context.Context, addr, request string) (int, string) {
	d := net.Dialer{Timeout: 5 * time.Second}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return 0, " (" + err.Error() + ")"
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(requestTimeout))
	if _, err := io.WriteString(c, request); err != nil {
		return 0, " (" + err.Error() + ")"
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0, " (" + err.Error() + ")"
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if bytes.Contains(body, []byte("root:")) {
		return resp.StatusCode, " (a file's content leaked)"
	}
	if loc := resp.Header.Get("Location"); loc != "" {
		return resp.StatusCode, " (to " + loc + ")"
	}
	return resp.StatusCode, ""
}

// traversal sends path as is and follows redirects (at most 3), which must stay on the
// server; it returns the final status.
func traversal(addr, path string) func(context.Context) (int, string) {
	return func(ctx context.Context) (int, string) {
		var hops []string
		for range 4 {
			status, detail := rawRequest(ctx, addr, "GET "+path+" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
			loc, redirected := strings.CutPrefix(detail, " (to ")
			if status < 300 || status > 399 || !redirected {
				if len(hops) > 0 {
					detail += " after " + strings.Join(hops, ", ")
				}
				return status, detail
			}
			loc = strings.TrimSuffix(loc, ")")
			if !strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, "//") {
				return status, " (redirect off the server to " + loc + ")"
			}
			hops = append(hops, fmt.Sprintf("%d to %s", status, loc))
			path = loc
		}
		return 0, " (redirect loop: " + strings.Join(hops, ", ") + ")"
	}
}

// slowlorisResult is what became of the slow connections.
type slowlorisResult struct {
	closed    int           // closed by the server
	open      int           // still open at the end
	lastClose time.Duration // from opening to the server's close, the longest
	err       error
}

// slowloris opens n connections that send a request line and then one header byte per
// second, never finishing the headers, and waits until the server closes them all (or
// the header timeout plus a margin has passed).
func slowloris(ctx context.Context, addr string, n int) slowlorisResult {
	var mu sync.Mutex
	var res slowlorisResult
	var wg sync.WaitGroup
	deadline := time.Now().Add(readHeaderTimeout + 10*time.Second)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := net.Dialer{Timeout: 5 * time.Second}
			c, err := d.DialContext(ctx, "tcp", addr)
			if err != nil {
				mu.Lock()
				res.err = err
				mu.Unlock()
				return
			}
			defer c.Close()
			opened := time.Now()
			closed := make(chan struct{})
			go func() {
				// The server closes (possibly after writing a 408): a read returns.
				_ = c.SetReadDeadline(deadline)
				_, _ = io.Copy(io.Discard, c)
				close(closed)
			}()
			_, _ = fmt.Fprintf(c, "GET /api/formulas?slow=%d HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ", i)
			tick := time.NewTicker(time.Second)
			defer tick.Stop()
			for {
				select {
				case <-closed:
					took := time.Since(opened)
					mu.Lock()
					if time.Now().Before(deadline) {
						res.closed++
						res.lastClose = max(res.lastClose, took)
					} else {
						res.open++
					}
					mu.Unlock()
					return
				case <-tick.C:
					if _, err := c.Write([]byte("a")); err != nil {
						// Writes fail once the server has closed; the reader sees it too.
						continue
					}
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	wg.Wait()
	return res
}
