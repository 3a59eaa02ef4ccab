package reliability

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	heavyFlag  = flag.Bool("heavy", false, "run the heavy variant (also HARDEN_RELIABILITY=heavy)")
	reportFlag = flag.String("report", "", "write the figures as Markdown to this file when every test passed")
)

// The run's shared state: the built binary and the report the tests fill.
var (
	binDir    string
	buildOnce sync.Once
	nexusBin  string
	buildErr  error
	report    = &Report{Title: "Reliability of the reference backend"}
)

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "nexus-reliability-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	start := time.Now()
	code := m.Run()
	_ = os.RemoveAll(dir)
	if *reportFlag != "" {
		if code != 0 {
			fmt.Fprintln(os.Stderr, "reliability: a test failed; report not written")
		} else if err := writeReport(*reportFlag, time.Since(start)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

// heavy reports whether the heavy variant runs.
func heavy() bool { return *heavyFlag || os.Getenv("HARDEN_RELIABILITY") == "heavy" }

// size picks the CI or the heavy figure.
func size(ci, heavyN int) int {
	if heavy() {
		return heavyN
	}
	return ci
}

// nexusBinary builds examples/nexus once per run, without -race, and returns its path.
func nexusBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			buildErr = fmt.Errorf("go tool not on PATH: %w", err)
			return
		}
		nexusBin = filepath.Join(binDir, "nexus")
		cmd := exec.Command(goTool, "build", "-o", nexusBin, "github.com/nexus-reussite/harden/examples/nexus")
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build nexus: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return nexusBin
}

func writeReport(path string, took time.Duration) error {
	variant := "CI (default)"
	if heavy() {
		variant = "heavy (-heavy)"
	}
	report.Intro = `Figures measured by the tests of examples/reliability against the real nexus binary
(built without -race, run as a child process on loopback) with PostgreSQL, a redis-server
owned by each test and a fake OpenAI-compatible server. Regenerate from examples/ with:

    go test ./reliability -count=1 -timeout 20m -args -report ../../RELIABILITY.md

or .ci/reliability from the repository root (append -heavy for the heavy variant). Each
section states the claim checked; the test fails, and this file is not written, when a claim
does not hold.`
	report.Setting = []Figure{
		{"Variant", variant},
		{"Go", runtime.Version()},
		{"OS/arch", runtime.GOOS + "/" + runtime.GOARCH},
		{"CPUs", fmt.Sprint(runtime.NumCPU())},
		{"Whole run", took.Round(time.Second).String()},
		{"Generated", time.Now().UTC().Format("2006-01-02 15:04 MST")},
	}
	body := report.Markdown()
	if !strings.HasSuffix(string(body), "\n") {
		body = append(body, '\n')
	}
	return os.WriteFile(path, body, 0o644)
}
