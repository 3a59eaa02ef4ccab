package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// result is one measured run of one stack.
type result struct {
	requests int
	errors   int
	elapsed  time.Duration
	p50, p99 time.Duration
}

func (r result) rps() float64 { return float64(r.requests) / r.elapsed.Seconds() }

// goLoad sends n GET requests over conns keep-alive connections, each with Accept-Encoding
// ae, and reads every body to the end. Any status other than 200 counts as an error.
func goLoad(addr string, n, conns int, ae string) result {
	url := "http://" + addr + "/api/formulas"
	tr := &http.Transport{
		MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, DisableCompression: true,
		DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	lat := make([]time.Duration, n)
	var next, errs atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
			req.Header.Set("Accept-Encoding", ae)
			// As a TLS-terminating proxy would: each connection stands for its own client.
			req.Header.Set("X-Forwarded-Proto", "https")
			req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.%d.%d", c/250, 1+c%250))
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					errs.Add(1)
					lat[i] = time.Since(t0)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				lat[i] = time.Since(t0)
				if resp.StatusCode != http.StatusOK {
					errs.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lat)
	return result{requests: n, errors: int(errs.Load()), elapsed: elapsed, p50: lat[n/2], p99: lat[n*99/100]}
}

var (
	wrkRequests = regexp.MustCompile(`(\d+) requests in ([\d.]+)(\w+)`)
	wrkLatency  = regexp.MustCompile(`(?m)^\s+(50|99)%\s+([\d.]+)(\w+)`)
	wrkErrors   = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	wrkSocket   = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
)

// wrkLoad runs wrk for d with conns connections (on the generator CPU with pin) and
// parses its --latency report.
func wrkLoad(addr string, conns int, d time.Duration, ae string, pin bool) (result, error) {
	out, err := pinned(pin, generatorCPU, "wrk", "-t2", "-c"+strconv.Itoa(conns), "-d"+d.String(), "--latency",
		"-H", "Accept-Encoding: "+ae, "-H", "X-Forwarded-Proto: https", "http://"+addr+"/api/formulas").CombinedOutput()
	if err != nil {
		return result{}, fmt.Errorf("wrk: %v: %s", err, out)
	}
	return parseWrk(out)
}

// parseWrk reads the figures of a wrk --latency report: requests and elapsed time, the
// 50th and 99th latency percentiles, and as errors the non-2xx/3xx responses plus the
// socket errors.
func parseWrk(out []byte) (result, error) {
	var r result
	m := wrkRequests.FindSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("wrk output not understood: %q", out)
	}
	var err error
	if r.requests, err = strconv.Atoi(string(m[1])); err != nil {
		return r, fmt.Errorf("wrk request count %q: %w", m[1], err)
	}
	if r.elapsed = parseWrkDuration(string(m[2]), string(m[3])); r.elapsed <= 0 || r.requests == 0 {
		return r, fmt.Errorf("wrk made %d requests in %s", r.requests, m[2])
	}
	for _, l := range wrkLatency.FindAllSubmatch(out, -1) {
		v := parseWrkDuration(string(l[2]), string(l[3]))
		if string(l[1]) == "50" {
			r.p50 = v
		} else {
			r.p99 = v
		}
	}
	if e := wrkErrors.FindSubmatch(out); e != nil {
		n, _ := strconv.Atoi(string(e[1]))
		r.errors += n
	}
	if e := wrkSocket.FindSubmatch(out); e != nil {
		for _, f := range e[1:] {
			n, _ := strconv.Atoi(string(f))
			r.errors += n
		}
	}
	return r, nil
}

func parseWrkDuration(v, unit string) time.Duration {
	f, _ := strconv.ParseFloat(v, 64)
	switch unit {
	case "us":
		return time.Duration(f * float64(time.Microsecond))
	case "ms":
		return time.Duration(f * float64(time.Millisecond))
	case "m":
		return time.Duration(f * float64(time.Minute))
	default:
		return time.Duration(f * float64(time.Second))
	}
}
