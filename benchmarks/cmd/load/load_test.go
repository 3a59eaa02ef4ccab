package main

import (
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMain lets this test binary stand in for the command: run starts each stack as a
// child process of os.Executable() with -serve, which here is the test binary.
func TestMain(m *testing.M) {
	if slices.Contains(os.Args[1:], "-serve") {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestRunWritesReport drives three stacks, each in its own child process, for two
// alternating rounds and checks the table and the chart it writes.
func TestRunWritesReport(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	cfg := config{requests: 2000, conns: 8, rounds: 2, size: 3072, gen: "go", encoding: "gzip", out: dir, stacks: "bare,peer,harden"}
	require.NoError(t, run(cfg))

	md, err := os.ReadFile(filepath.Join(dir, "load.md"))
	require.NoError(t, err)
	table := string(md)
	assert.Contains(t, table, "3072-byte JSON, Accept-Encoding: gzip, 8 connections, generator go, 2000 requests per run, median of 2 alternating rounds.")
	for _, name := range []string{"bare", "peer", "harden"} {
		line := tableLine(t, table, name)
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		require.Len(t, cells, 10, line)
		assert.NotEqual(t, "0", cells[1], "requests/s of %s", name)
		assert.True(t, strings.HasSuffix(cells[4], "µs") && cells[4] != "0.0µs", "server CPU per request: %s", line)
		assert.True(t, strings.HasSuffix(cells[6], "MiB"), line)
	}
	assert.Contains(t, tableLine(t, table, "peer"), "| 1.00x | – |")
	assert.True(t, strings.HasSuffix(tableLine(t, table, "bare"), "| – | 1.00x |"), "no gzip-only stack ran: no ratio to it")

	svg, err := os.ReadFile(filepath.Join(dir, "load.svg"))
	require.NoError(t, err)
	dec := xml.NewDecoder(strings.NewReader(string(svg)))
	for {
		_, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, "load.svg is well-formed XML")
	}
	for _, name := range []string{"bare", "peer", "harden"} {
		assert.Contains(t, string(svg), ">"+name+"<")
	}
}

func tableLine(t *testing.T, table, name string) string {
	t.Helper()
	for _, l := range strings.Split(table, "\n") {
		if strings.HasPrefix(l, "| "+name+" |") {
			return l
		}
	}
	t.Fatalf("no row for %s in\n%s", name, table)
	return ""
}

func TestRunRejectsUnknownStack(t *testing.T) {
	err := run(config{requests: 10, conns: 1, rounds: 1, size: 200, gen: "go", stacks: "nope"})
	assert.ErrorContains(t, err, "nope")
}

// goLoad counts every answer other than 200 as an error, and reports latencies.
func TestGoLoadCountsErrors(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "gzip", r.Header.Get("Accept-Encoding"))
		assert.Equal(t, "https", r.Header.Get("X-Forwarded-Proto"))
		assert.NotEmpty(t, r.Header.Get("X-Forwarded-For"))
		if n.Add(1)%4 == 0 {
			http.Error(w, "no", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	res := goLoad(strings.TrimPrefix(srv.URL, "http://"), 400, 4, "gzip")
	assert.Equal(t, 400, res.requests)
	assert.Equal(t, 100, res.errors)
	assert.Positive(t, res.p50)
	assert.GreaterOrEqual(t, res.p99, res.p50)
	assert.Positive(t, res.rps())
}

// wrkSample is the report of wrk 4.1 with --latency, as wrkLoad receives it.
const wrkSample = `Running 5s test @ http://127.0.0.1:41234/api/formulas
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.01ms    3.10ms  48.92ms   89.12%
    Req/Sec    18.01k     1.20k   21.33k    71.00%
  Latency Distribution
     50%  761.00us
     75%    1.80ms
     90%    4.52ms
     99%    8.00ms
  179240 requests in 5.01s, 139.46MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 7
Requests/sec:  35776.45
Transfer/sec:     27.84MB
`

func TestParseWrk(t *testing.T) {
	r, err := parseWrk([]byte(wrkSample))
	require.NoError(t, err)
	assert.Equal(t, 179240, r.requests)
	assert.Equal(t, 5010*time.Millisecond, r.elapsed)
	assert.Equal(t, 761*time.Microsecond, r.p50)
	assert.Equal(t, 8*time.Millisecond, r.p99)
	assert.Equal(t, 10, r.errors, "non-2xx plus socket errors")

	for name, out := range map[string]string{
		"empty":          "",
		"no requests":    "  0 requests in 5.00s, 0B read\n",
		"no time":        "  12 requests in 0.00s, 1KB read\n",
		"huge count":     "  99999999999999999999999 requests in 1.00s\n",
		"unrelated text": "wrk: unable to connect to 127.0.0.1:1 Connection refused\n",
	} {
		_, err := parseWrk([]byte(out))
		assert.Error(t, err, name)
	}
}

// FuzzParseWrk: any output (wrk's report is another program's text) is either parsed to
// a usable result or rejected, without a panic.
func FuzzParseWrk(f *testing.F) {
	f.Add(wrkSample)
	f.Add("1 requests in 1us\n 50% 1m\n 99% 2h\n")
	f.Fuzz(func(t *testing.T, out string) {
		r, err := parseWrk([]byte(out))
		if err == nil && (r.requests <= 0 || r.elapsed <= 0 || r.errors < 0) {
			t.Fatalf("accepted %+v from %q", r, out)
		}
	})
}

// TestWrkLoad runs the real wrk against a server for a second, when wrk is installed.
func TestWrkLoad(t *testing.T) {
	if _, err := exec.LookPath("wrk"); err != nil {
		t.Skip("wrk is not installed")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{}`)) }))
	defer srv.Close()
	r, err := wrkLoad(strings.TrimPrefix(srv.URL, "http://"), 4, time.Second, "gzip", false)
	require.NoError(t, err)
	assert.Positive(t, r.requests)
	assert.Zero(t, r.errors)
	assert.Positive(t, r.p50)
}

func TestPinNeedsWrk(t *testing.T) {
	err := run(config{requests: 10, conns: 1, rounds: 1, size: 200, gen: "go", stacks: "bare", pin: true})
	assert.ErrorContains(t, err, "-pin needs -gen wrk")
}

// canPin skips a test where -pin cannot run.
func canPin(t *testing.T) {
	t.Helper()
	if err := checkPin(config{gen: "wrk", pin: true}); err != nil {
		t.Skip(err)
	}
}

// cpusAllowed reads the CPU list a process may run on.
func cpusAllowed(t *testing.T, pid int) string {
	t.Helper()
	v, err := procStatus(pid, "Cpus_allowed_list")
	require.NoError(t, err)
	return v
}

// TestPinnedChildRunsOnItsCPU proves -pin puts the stack's process on the server CPU alone
// (and that its runtime sees one CPU), and that the process is the child itself.
func TestPinnedChildRunsOnItsCPU(t *testing.T) {
	canPin(t)
	c, err := startChild("bare", 200, "", true)
	require.NoError(t, err)
	defer c.stop()
	assert.Equal(t, serverCPU, cpusAllowed(t, c.cmd.Process.Pid))
	resp, err := http.Get("http://" + c.app + "/api/formulas")
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	free, err := startChild("bare", 200, "", false)
	require.NoError(t, err)
	defer free.stop()
	assert.NotEqual(t, serverCPU, cpusAllowed(t, free.cmd.Process.Pid), "without -pin the child may run anywhere")
}

// TestRunPinned drives one stack with wrk on the generator CPU and reports the pinning.
func TestRunPinned(t *testing.T) {
	canPin(t)
	dir := filepath.Join(t.TempDir(), "out")
	require.NoError(t, run(config{conns: 4, rounds: 1, size: 3072, gen: "wrk", encoding: "gzip", out: dir, stacks: "bare", pin: true, duration: time.Second}))
	md, err := os.ReadFile(filepath.Join(dir, "load.md"))
	require.NoError(t, err)
	assert.Contains(t, string(md), "1s per run, server on CPU 0 and wrk on CPU 1, median of 1 alternating rounds.")
	assert.NotContains(t, tableLine(t, string(md), "bare"), "| 0 |")
}
