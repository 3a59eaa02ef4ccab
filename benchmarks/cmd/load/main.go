// Command load drives each benchmark stack on loopback and prints a comparison table.
//
//	go run ./benchmarks/cmd/load            # full run
//	go run ./benchmarks/cmd/load -quick     # under a minute
//	go run ./benchmarks/cmd/load -ae 'gzip, deflate, br, zstd'   # as browsers ask
//	go run ./benchmarks/cmd/load -out docs  # also writes docs/load.md and docs/load.svg
//	go run ./benchmarks/cmd/load -cpuprofile /tmp/prof -stacks harden   # then go tool pprof
//	go run ./benchmarks/cmd/load -gen wrk -pin   # server on CPU 0, wrk on CPU 1
//
// Every stack runs in a child process of its own (this binary with -serve), so peak RSS
// and allocations per request belong to that stack alone. Runs alternate between stacks
// for several rounds and the median round is reported. The generator is built in; with
// -gen wrk and wrk installed, wrk drives the load instead. With -pin (wrk only, two CPUs
// or more, taskset installed), each stack runs on CPU 0 and wrk on CPU 1: the server has
// a core of its own, so requests per second follow its CPU time per request instead of
// being shared out with the generator's.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"
)

type config struct {
	quick    bool
	requests int
	conns    int
	rounds   int
	size     int
	gen      string
	encoding string
	out      string
	stacks   string
	profile  string
	pin      bool
	duration time.Duration
}

func main() {
	var cfg config
	serve := flag.String("serve", "", "internal: serve the named stack and print its addresses")
	flag.BoolVar(&cfg.quick, "quick", false, "small run that finishes within a minute")
	flag.IntVar(&cfg.requests, "n", 200000, "requests per stack per round (built-in generator)")
	flag.IntVar(&cfg.conns, "c", 64, "concurrent connections")
	flag.IntVar(&cfg.rounds, "rounds", 3, "alternating rounds; the median is reported")
	flag.IntVar(&cfg.size, "size", 3072, "response body size in bytes (JSON)")
	flag.StringVar(&cfg.gen, "gen", "go", "load generator: go or wrk")
	flag.StringVar(&cfg.encoding, "ae", "gzip", `Accept-Encoding of every request ("gzip, deflate, br, zstd" is what browsers send)`)
	flag.DurationVar(&cfg.duration, "d", 10*time.Second, "run length per stack per round (wrk generator)")
	flag.StringVar(&cfg.out, "out", "", "directory to write load.md and load.svg into")
	flag.StringVar(&cfg.stacks, "stacks", "", "comma-separated stacks to run (default all)")
	flag.StringVar(&cfg.profile, "cpuprofile", "", "directory where each stack's process writes <stack>.pprof (CPU profile of its last run)")
	flag.BoolVar(&cfg.pin, "pin", false, "with -gen wrk: each stack on CPU 0 and wrk on CPU 1 (taskset)")
	flag.Parse()

	if *serve != "" {
		if err := serveStack(*serve, cfg.size, cfg.profile); err != nil {
			fmt.Fprintln(os.Stderr, "load:", err)
			os.Exit(1)
		}
		return
	}
	if cfg.quick {
		cfg.requests, cfg.rounds, cfg.duration = 20000, 1, 3*time.Second
	}
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}
