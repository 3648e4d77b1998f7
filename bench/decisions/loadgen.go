package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// phaseResult is what one load phase measured against one server.
type phaseResult struct {
	Mode    string  `json:"mode"` // closed, open or sequential
	Conns   int     `json:"conns"`
	Rate    int64   `json:"rate_per_s,omitempty"` // open loop: the schedule's rate
	Seconds float64 `json:"seconds"`              // from the start to the last answer
	Sent    int64   `json:"sent"`
	OK      int64   `json:"ok"`
	// Errors are transport errors, timeouts, non-200 answers and 200s of
	// the wrong shape.
	Errors     int64  `json:"errors"`
	FirstError string `json:"first_error,omitempty"`
	// Unsent requests were still waiting for a connection at the open
	// loop's cut-off (the server had fallen that far behind); each is
	// recorded in Latency as the time it had waited by then, a lower bound.
	Unsent     int64   `json:"unsent,omitempty"`
	Throughput float64 `json:"throughput_per_s"` // OK answers per second
	Latency    summary `json:"latency"`
	// DispatchLag is how late the generator itself released each request
	// after its due time (open loop; timer and scheduling error, before
	// any wait for a connection): part of Latency that is the generator's
	// own, not the server's.
	DispatchLag summary `json:"dispatch_lag,omitempty"`
	// Wrapped says the closed loop used up its pre-encoded sequence and
	// started it again (then gatehouse may answer repeats from its cache).
	Wrapped bool `json:"wrapped,omitempty"`
	// Kept is, for batch endpoints, how many items the first answer kept.
	Kept int `json:"kept,omitempty"`
	// ServerCPU and GeneratorCPU are the cores each used during the phase.
	ServerCPU    float64 `json:"server_cpu_cores"`
	GeneratorCPU float64 `json:"generator_cpu_cores"`
	// ServerWait and GeneratorWait are the time each one's threads were
	// runnable but waiting for a core, per second of the phase (the
	// machine's scheduling, not the server's work; unknownCPU when /proc
	// could not tell).
	ServerWait    float64 `json:"server_run_queue_wait"`
	GeneratorWait float64 `json:"generator_run_queue_wait"`
	// Server is what gatehouse's own /metrics counted during the phase
	// (allow-mix open loop only; see servermetrics.go).
	Server *serverSide `json:"server_side,omitempty"`

	digests []uint64 // per request index: the answer's digest, 0 when none
}

// tally is one worker's share of a phase, merged at the end.
type tally struct {
	lat            *hdrhistogram.Histogram
	sent, ok, errs int64
	unsent         int64
	firstErr       string
	kept           int
	keptSet        bool
	lastDone       time.Time
}

func newTally() *tally { return &tally{lat: newHist()} }

// do sends one request, records its latency from since and checks it.
func (t *tally) do(k *conn, r request, since time.Time, digest *uint64) {
	t.sent++
	status, resp, err := k.post(r.path, r.body)
	done := time.Now()
	t.lastDone = done
	record(t.lat, done.Sub(since))
	if err == nil && status != 200 {
		err = fmt.Errorf("%s: status %d: %.200s", r.path, status, resp)
	}
	var d uint64
	var kept int
	if err == nil {
		d, kept, err = checkAnswer(r.path, resp)
	}
	if err != nil {
		t.errs++
		if t.firstErr == "" {
			t.firstErr = err.Error()
		}
		return
	}
	t.ok++
	if !t.keptSet {
		t.kept, t.keptSet = kept, true
	}
	if digest != nil {
		*digest = d
	}
}

// merge folds the workers' tallies into res.
func merge(res *phaseResult, ts []*tally, start time.Time) {
	lats := make([]*hdrhistogram.Histogram, len(ts))
	var last time.Time
	for i, t := range ts {
		lats[i] = t.lat
		res.Sent += t.sent
		res.OK += t.ok
		res.Errors += t.errs
		res.Unsent += t.unsent
		if res.FirstError == "" {
			res.FirstError = t.firstErr
		}
		if t.keptSet && res.Kept == 0 {
			res.Kept = t.kept
		}
		if t.lastDone.After(last) {
			last = t.lastDone
		}
	}
	res.Latency = summarize(mergeHists(lats))
	if !last.IsZero() {
		res.Seconds = last.Sub(start).Seconds()
	}
	if res.Seconds > 0 {
		res.Throughput = float64(res.OK) / res.Seconds
	}
}

// dialAll opens n connections to addr before any clock starts.
func dialAll(addr string, n int, timeout time.Duration) ([]*conn, error) {
	conns := make([]*conn, n)
	for i := range conns {
		conns[i] = newConn(addr, timeout)
		if err := conns[i].dial(); err != nil {
			closeAll(conns)
			return nil, err
		}
	}
	return conns, nil
}

func closeAll(conns []*conn) {
	for _, k := range conns {
		if k != nil {
			k.close()
		}
	}
}

// openLoop sends reqs on a fixed schedule at rate per second over nconns
// keep-alive connections. One dispatcher releases each request at its due
// time (precise timer) to whichever connection is free; when none is, the
// request waits, and that wait is part of its latency, measured from the due
// time. Requests not sent by grace after the last due time are counted as
// unsent (the server could not keep up).
func openLoop(ctx context.Context, addr string, reqs []request, rate int64, nconns int, grace, timeout time.Duration) (phaseResult, error) {
	res := phaseResult{Mode: "open", Conns: nconns, Rate: rate, digests: make([]uint64, len(reqs))}
	conns, err := dialAll(addr, nconns, timeout)
	if err != nil {
		return res, err
	}
	defer closeAll(conns)
	timer, err := newPreciseTimer()
	if err != nil {
		return res, err
	}
	defer timer.close()

	s := schedule{rate: rate, n: len(reqs)}
	work := make(chan int, len(reqs)) // never full: the dispatcher never waits
	start := time.Now().Add(20 * time.Millisecond)
	cutoff := start.Add(s.length() + grace)
	ts := make([]*tally, nconns)
	var wg sync.WaitGroup
	for w := range nconns {
		t := newTally()
		ts[w] = t
		wg.Add(1)
		go func(k *conn) {
			defer wg.Done()
			for i := range work {
				due := start.Add(s.offset(i))
				now := time.Now()
				if now.After(cutoff) || ctx.Err() != nil {
					t.unsent++
					record(t.lat, cutoff.Sub(due))
					continue
				}
				t.do(k, reqs[i], due, &res.digests[i])
			}
		}(conns[w])
	}
	lag := newHist()
	sent := 0
	for sent < len(reqs) && ctx.Err() == nil {
		now := time.Now()
		for d := s.due(now.Sub(start)); sent < d; sent++ {
			record(lag, now.Sub(start.Add(s.offset(sent))))
			work <- sent
		}
		if sent < len(reqs) {
			if err := timer.sleepUntil(start.Add(s.offset(sent))); err != nil {
				close(work)
				wg.Wait()
				return res, err
			}
		}
	}
	for ; sent < len(reqs); sent++ { // cancelled: the rest are unsent
		work <- sent
	}
	close(work)
	wg.Wait()
	merge(&res, ts, start)
	res.DispatchLag = summarize(lag)
	return res, ctx.Err()
}

// closedLoop runs nconns workers for d, each taking the next query of seq
// and sending its checks back to back (Trino's pattern per query): the
// server's maximum throughput at that concurrency. Latency is from each
// request's send.
func closedLoop(ctx context.Context, addr string, seq *sequence, nconns int, d, timeout time.Duration) (phaseResult, error) {
	res := phaseResult{Mode: "closed", Conns: nconns, digests: make([]uint64, len(seq.reqs))}
	conns, err := dialAll(addr, nconns, timeout)
	if err != nil {
		return res, err
	}
	defer closeAll(conns)
	var next atomic.Int64
	var wrapped atomic.Bool
	ts := make([]*tally, nconns)
	start := time.Now()
	end := start.Add(d)
	var wg sync.WaitGroup
	for w := range nconns {
		t := newTally()
		ts[w] = t
		wg.Add(1)
		go func(k *conn) {
			defer wg.Done()
			for time.Now().Before(end) && ctx.Err() == nil {
				q := int(next.Add(1) - 1)
				first := q < len(seq.queries)
				if !first {
					wrapped.Store(true)
				}
				from, to := seq.queryRange(q % len(seq.queries))
				// Checks stop at the end even within a query: against a
				// server that takes seconds per check, finishing the query
				// would stretch the phase well past its length.
				for i := from; i < to && time.Now().Before(end); i++ {
					var dg *uint64
					if first {
						dg = &res.digests[i]
					}
					t.do(k, seq.reqs[i], time.Now(), dg)
				}
			}
		}(conns[w])
	}
	wg.Wait()
	merge(&res, ts, start)
	res.Wrapped = wrapped.Load()
	return res, ctx.Err()
}

// sequential sends reqs one at a time on one connection, for the large
// batch requests: each one's own latency, no queueing. It stops early
// (the rest unsent) once budget has passed, for a server that takes
// seconds per request.
func sequential(ctx context.Context, addr string, reqs []request, budget, timeout time.Duration) (phaseResult, error) {
	res := phaseResult{Mode: "sequential", Conns: 1, digests: make([]uint64, len(reqs))}
	conns, err := dialAll(addr, 1, timeout)
	if err != nil {
		return res, err
	}
	defer closeAll(conns)
	t := newTally()
	start := time.Now()
	for i, r := range reqs {
		if time.Since(start) > budget || ctx.Err() != nil {
			t.unsent += int64(len(reqs) - i)
			break
		}
		t.do(conns[0], r, time.Now(), &res.digests[i])
	}
	merge(&res, []*tally{t}, start)
	return res, ctx.Err()
}

// agreement compares two runs' digests request by request, where both
// answered.
type agreement struct {
	Compared   int `json:"compared"`
	Mismatches int `json:"mismatches"`
	FirstIndex int `json:"first_mismatch_index,omitempty"`
}

func compareDigests(a, b []uint64) agreement {
	var ag agreement
	for i := range min(len(a), len(b)) {
		if a[i] == 0 || b[i] == 0 {
			continue
		}
		ag.Compared++
		if a[i] != b[i] {
			if ag.Mismatches == 0 {
				ag.FirstIndex = i
			}
			ag.Mismatches++
		}
	}
	return ag
}
