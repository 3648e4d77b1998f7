package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// Scenario names, as -only takes them.
const (
	scAllow       = "allow"       // allow mix: closed loop, then open loop
	scFilter      = "filter"      // FilterTables of 10,000 tables
	scMasks       = "masks"       // batchColumnMasks of 500 columns
	scImpersonate = "impersonate" // ImpersonateUser storm
	scVisibility  = "visibility"  // admin write visibility under load (gatehouse only)
)

var allScenarios = []string{scAllow, scFilter, scMasks, scImpersonate, scVisibility}

// Phase keys in results.
const (
	phAllowClosed  = "allow_closed"
	phAllowOpen    = "allow_open"
	phFilter       = "filter_tables_10k"
	phMasks        = "batch_column_masks_500"
	phImpersonate  = "impersonate_storm"
	phWritesLoaded = "allow_open_during_writes"
)

// workload is every request of the run, encoded before any clock starts
// and the same for both servers.
type workload struct {
	warm       *sequence // closed-loop warm-up, not measured
	closed     *sequence
	open       []request
	visibility []request
	filterWarm []request
	filter     []request
	masksWarm  []request
	masks      []request
	imp        []request
}

func buildWorkload(m dirModel, p plan, only map[string]bool) *workload {
	w := &workload{}
	flat := func(s *sequence) []request { return s.reqs }
	// Distinct seeds per phase: no phase replays another's requests, so
	// neither server answers from what an earlier phase left in a cache.
	if only[scAllow] {
		w.warm = allowMix(m, int(p.Rate*int64(p.Warmup.Seconds()+1)), 1)
		w.closed = allowMix(m, p.closedRequests(), 2)
		w.open = flat(allowMix(m, int(p.Rate)*int(p.Open.Seconds()), 3))
	}
	if only[scVisibility] {
		w.visibility = flat(allowMix(m, int(p.Rate)*int(p.Visibility.Seconds()), 4))
	}
	if only[scFilter] {
		w.filterWarm = filterTables(m, p.SeqWarm, 0)
		w.filter = filterTables(m, p.SeqRequests, p.SeqWarm)
	}
	if only[scMasks] {
		w.masksWarm = columnMasks(m, p.SeqWarm, 1000)
		w.masks = columnMasks(m, p.SeqRequests, 1000+p.SeqWarm)
	}
	if only[scImpersonate] {
		w.imp = impersonations(m, int(p.Rate)*int(p.Impersonation.Seconds()), 5)
	}
	return w
}

// targetResult is everything measured of one server.
type targetResult struct {
	StartupSeconds float64                 `json:"startup_seconds"`
	MemStart       memory                  `json:"memory_after_startup"`
	MemEnd         memory                  `json:"memory_after_scenarios"`
	Phases         map[string]*phaseResult `json:"phases"`
	Visibility     *visibilityResult       `json:"write_visibility,omitempty"`
	Profile        string                  `json:"cpu_profile,omitempty"`
}

// runScenarios runs the selected scenarios against srv, in the same order
// for both servers, with a short idle pause between phases.
func runScenarios(ctx context.Context, srv *server, w *workload, p plan, only map[string]bool, prof *profiler) (*targetResult, error) {
	tr := &targetResult{StartupSeconds: srv.startup.Seconds(), Phases: map[string]*phaseResult{}}
	var err error
	if tr.MemStart, err = srv.memory(); err != nil {
		return tr, err
	}
	say := func(f string, a ...any) { fmt.Fprintf(os.Stderr, "  %s: "+f+"\n", append([]any{srv.name}, a...)...) }
	pause := func() { time.Sleep(p.Pause) }
	var meter *cpuMeter
	measure := func() { meter = startCPU(srv.cmd.Process.Pid) }
	keep := func(key string, r phaseResult, err error) error {
		meter.stopInto(&r)
		tr.Phases[key] = &r
		say("%-26s %s", key, r.brief())
		return err
	}

	if only[scAllow] {
		say("allow mix warm-up, closed loop %s", p.Warmup)
		if r, err := closedLoop(ctx, srv.addr, w.warm, p.ClosedConns, p.Warmup, p.Timeout); err != nil {
			return tr, err
		} else if r.Errors > 0 {
			say("warm-up errors: %d (%s)", r.Errors, r.FirstError)
		}
		pause()
		measure()
		r, err := closedLoop(ctx, srv.addr, w.closed, p.ClosedConns, p.Closed, p.Timeout)
		if err := keep(phAllowClosed, r, err); err != nil {
			return tr, err
		}
		pause()
		if prof != nil {
			prof.start(p.profileSeconds())
		}
		var before serverMetrics
		if srv.name == "gatehouse" {
			if before, err = scrapeMetrics(srv.addr); err != nil {
				return tr, fmt.Errorf("gatehouse /metrics: %w", err)
			}
		}
		measure()
		r, err = openLoop(ctx, srv.addr, w.open, p.Rate, p.OpenConns, p.Grace, p.Timeout)
		if prof != nil {
			tr.Profile = prof.wait()
		}
		if before != nil && err == nil {
			after, serr := scrapeMetrics(srv.addr)
			if serr != nil {
				return tr, fmt.Errorf("gatehouse /metrics: %w", serr)
			}
			side := diffMetrics(before, after)
			r.Server = &side
			say("open loop, counted by gatehouse itself: %s", side.brief())
		}
		if err := keep(phAllowOpen, r, err); err != nil {
			return tr, err
		}
		pause()
	}
	if only[scFilter] {
		if _, err := sequential(ctx, srv.addr, w.filterWarm, p.SeqBudget, p.Timeout); err != nil {
			return tr, err
		}
		// (-profile without the allow mix profiles this phase instead.)
		profile := prof != nil && !only[scAllow]
		if profile {
			prof.start(p.profileSeconds())
		}
		measure()
		r, err := sequential(ctx, srv.addr, w.filter, p.SeqBudget, p.Timeout)
		if profile {
			tr.Profile = prof.wait()
		}
		if err := keep(phFilter, r, err); err != nil {
			return tr, err
		}
		pause()
	}
	if only[scMasks] {
		if _, err := sequential(ctx, srv.addr, w.masksWarm, p.SeqBudget, p.Timeout); err != nil {
			return tr, err
		}
		measure()
		r, err := sequential(ctx, srv.addr, w.masks, p.SeqBudget, p.Timeout)
		if err := keep(phMasks, r, err); err != nil {
			return tr, err
		}
		pause()
	}
	if only[scImpersonate] {
		measure()
		r, err := openLoop(ctx, srv.addr, w.imp, p.Rate, p.OpenConns, p.Grace, p.Timeout)
		if err := keep(phImpersonate, r, err); err != nil {
			return tr, err
		}
		pause()
	}
	tr.MemEnd, err = srv.memory()
	return tr, err
}

// brief is one progress line.
func (r phaseResult) brief() string {
	s := fmt.Sprintf("%8.0f req/s  p50 %s  p99 %s  p99.9 %s  max %s  ok %d  errors %d  cpu server %.2f generator %.2f",
		r.Throughput, us(r.Latency.P50Us), us(r.Latency.P99Us), us(r.Latency.P999Us), us(r.Latency.MaxUs), r.OK, r.Errors, r.ServerCPU, r.GeneratorCPU)
	if r.ServerWait >= 0 && r.GeneratorWait >= 0 {
		s += fmt.Sprintf("  waiting for a core: server %.2f generator %.2f", r.ServerWait, r.GeneratorWait)
	}
	if r.Unsent > 0 {
		s += fmt.Sprintf("  unsent %d", r.Unsent)
	}
	if r.FirstError != "" {
		s += "  first error: " + r.FirstError
	}
	return s
}

// profiler takes a CPU profile of gatehouse through its --debug-addr pprof
// endpoint while a phase runs.
type profiler struct {
	debugAddr, dir, stamp string
	done                  chan string
}

func (p *profiler) start(seconds int) {
	p.done = make(chan string, 1)
	// Beside the CPU profile, the allocations made over the same window
	// (a delta profile) and the heap in use at its end: GC work is set by
	// both.
	go p.fetch(seconds, "allocs", fmt.Sprintf("allocs?seconds=%d", seconds), nil)
	go p.fetch(seconds, "cpu", fmt.Sprintf("profile?seconds=%d", seconds), p.done)
	go func() {
		time.Sleep(time.Duration(seconds) * time.Second)
		p.fetch(seconds, "heap", "heap", nil)
	}()
}

func (p *profiler) fetch(seconds int, kind, query string, done chan<- string) {
	path := filepath.Join(p.dir, "gatehouse-"+kind+"-"+p.stamp+".pprof")
	report := func(s string) {
		if done != nil {
			done <- s
		}
	}
	c := &http.Client{Timeout: time.Duration(seconds+30) * time.Second}
	resp, err := c.Get(fmt.Sprintf("http://%s/debug/pprof/%s", p.debugAddr, query))
	if err != nil {
		fmt.Fprintln(os.Stderr, kind, "profile:", err)
		report("")
		return
	}
	defer resp.Body.Close()
	f, err := os.Create(path)
	if err == nil {
		_, err = io.Copy(f, resp.Body)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil || resp.StatusCode != 200 {
		fmt.Fprintln(os.Stderr, kind, "profile:", resp.Status, err)
		report("")
		return
	}
	report(path)
}

func (p *profiler) wait() string { return <-p.done }
