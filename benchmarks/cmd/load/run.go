package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/nexus-reussite/harden/benchmarks/stack"
)

// row is the reported figure of one stack: the median round by requests/s.
type row struct {
	name          string
	res           result
	allocsPerReq  float64
	cpuPerReq     time.Duration // the server process's CPU time (user and system) per request
	peakRSS       int64
	ratioToPeer   float64
	ratioToGzip   float64 // to gzip-only, the bound for a compressed response
	ratioToBare   float64 // to bare, the bound for a cached one
	roundsRPS     []float64
	generatorName string
}

func run(cfg config) error {
	names := stack.Names()
	if cfg.stacks != "" {
		names = strings.Split(cfg.stacks, ",")
	}
	if cfg.gen == "wrk" {
		if _, err := exec.LookPath("wrk"); err != nil {
			return fmt.Errorf("-gen wrk: wrk is not installed (apt-get install wrk)")
		}
	}
	if err := checkPin(cfg); err != nil {
		return err
	}
	type sample struct {
		res    result
		allocs float64
		cpu    time.Duration
		rss    int64
	}
	samples := map[string][]sample{}
	for round := range cfg.rounds {
		order := slices.Clone(names)
		// Alternate the order each round so no stack always runs on a cooler machine.
		for i := 0; i < round%len(order); i++ {
			order = append(order[1:], order[0])
		}
		for _, name := range order {
			c, err := startChild(name, cfg.size, cfg.profile, cfg.pin)
			if err != nil {
				return err
			}
			// Warm up: connections, pools, caches.
			goLoad(c.app, max(cfg.requests/10, 1000), cfg.conns, cfg.encoding)
			before, err := c.stats()
			if err != nil {
				c.stop()
				return err
			}
			var res result
			if cfg.gen == "wrk" {
				res, err = wrkLoad(c.app, cfg.conns, cfg.duration, cfg.encoding, cfg.pin)
			} else {
				res = goLoad(c.app, cfg.requests, cfg.conns, cfg.encoding)
			}
			if err != nil {
				c.stop()
				return err
			}
			after, err := c.stats()
			if err != nil {
				c.stop()
				return err
			}
			rss, _ := c.peakRSS()
			c.stop()
			// One malloc read itself allocates a little; it is negligible against the run.
			allocs := float64(after.Mallocs-before.Mallocs) / float64(res.requests)
			cpu := (after.CPU - before.CPU) / time.Duration(max(res.requests, 1))
			samples[name] = append(samples[name], sample{res, allocs, cpu, rss})
			fmt.Fprintf(os.Stderr, "round %d %-14s %9.0f req/s  errors %d\n", round+1, name, res.rps(), res.errors)
		}
	}
	var rows []row
	for _, name := range names {
		s := samples[name]
		slices.SortFunc(s, func(a, b sample) int { return compareFloat(a.res.rps(), b.res.rps()) })
		med := s[len(s)/2]
		r := row{name: name, res: med.res, allocsPerReq: med.allocs, cpuPerReq: med.cpu, peakRSS: med.rss, generatorName: cfg.gen}
		for _, x := range s {
			r.roundsRPS = append(r.roundsRPS, x.res.rps())
			r.peakRSS = max(r.peakRSS, x.rss)
		}
		rows = append(rows, r)
	}
	ref := map[string]float64{}
	for _, r := range rows {
		ref[r.name] = r.res.rps()
	}
	ratio := func(rps float64, to string) float64 {
		if ref[to] == 0 {
			return 0
		}
		return rps / ref[to]
	}
	for i := range rows {
		rps := rows[i].res.rps()
		rows[i].ratioToPeer, rows[i].ratioToGzip, rows[i].ratioToBare = ratio(rps, "peer"), ratio(rps, "gzip-only"), ratio(rps, "bare")
	}
	table := markdown(cfg, rows)
	fmt.Print(table)
	if cfg.out != "" {
		if err := os.MkdirAll(cfg.out, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(cfg.out, "load.md"), []byte(table), 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(cfg.out, "load.svg"), []byte(chart(rows)), 0o644); err != nil {
			return err
		}
	}
	for _, r := range rows {
		if r.res.errors > 0 {
			return fmt.Errorf("stack %s answered %d requests with an error", r.name, r.res.errors)
		}
	}
	return nil
}

// checkPin refuses -pin where it cannot hold: without wrk (the built-in generator runs in
// this process), taskset or a second CPU.
func checkPin(cfg config) error {
	switch {
	case !cfg.pin:
		return nil
	case cfg.gen != "wrk":
		return fmt.Errorf("-pin needs -gen wrk: the built-in generator runs in this process")
	case runtime.NumCPU() < 2:
		return fmt.Errorf("-pin needs two CPUs, this machine has %d", runtime.NumCPU())
	}
	if _, err := exec.LookPath("taskset"); err != nil {
		return fmt.Errorf("-pin: taskset is not installed (util-linux)")
	}
	return nil
}

func compareFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func markdown(cfg config, rows []row) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Load: GET /api/formulas, %d-byte JSON, Accept-Encoding: %s, %d connections, generator %s, ", cfg.size, cfg.encoding, cfg.conns, cfg.gen)
	if cfg.gen == "wrk" {
		fmt.Fprintf(&b, "%s per run", cfg.duration)
	} else {
		fmt.Fprintf(&b, "%d requests per run", cfg.requests)
	}
	if cfg.pin {
		fmt.Fprintf(&b, ", server on CPU %s and wrk on CPU %s", serverCPU, generatorCPU)
	}
	fmt.Fprintf(&b, ", median of %d alternating rounds.\n\n", cfg.rounds)
	b.WriteString("| stack | requests/s | p50 | p99 | server CPU/req | allocs/req | peak RSS | vs peer | vs gzip-only | vs bare |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %.0f | %s | %s | %.1fµs | %.1f | %.1f MiB | %s | %s | %s |\n", r.name, r.res.rps(),
			round(r.res.p50), round(r.res.p99), float64(r.cpuPerReq)/float64(time.Microsecond), r.allocsPerReq, float64(r.peakRSS)/(1<<20),
			times(r.ratioToPeer), times(r.ratioToGzip), times(r.ratioToBare))
	}
	return b.String()
}

func round(d time.Duration) string {
	switch {
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	default:
		return d.Round(time.Microsecond).String()
	}
}

// times renders a ratio, or a dash when the stack it compares to did not run.
func times(ratio float64) string {
	if ratio == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2fx", ratio)
}
