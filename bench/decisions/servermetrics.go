package main

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Where does an open-loop request's time go? The client's latency is the
// server's decision plus everything around it: the wait for a goroutine to
// be scheduled, net/http, the kernel, the generator. gatehouse's /metrics
// counts two of those itself, as histograms, so the harness reads them just
// before and just after the open loop and reports the difference:
//
//   - gatehouse_decision_duration_seconds: decode to encoded answer;
//   - go_sched_latencies_seconds: how long runnable goroutines waited for
//     a P (Go's scheduler, which waits for the OS's);
//   - go_gc_cycles_total_gc_cycles_total and go_gc_heap_allocs_bytes_total:
//     collections during the loop and bytes allocated per decision;
//   - go_cpu_classes_gc_total_cpu_seconds_total and its mark_assist part:
//     the collector's CPU over the loop (Go's estimate, in P time, so a P
//     waiting for a core counts), and how much of it decisions paid
//     themselves, as assists;
//   - go_sched_gomaxprocs_threads: the Ps gatehouse ran with (its procs
//     option), a gauge read after the loop.
//
// (OPA's /metrics has neither histogram in the same form, so this is
// reported for gatehouse only.)

// serverMetrics is one scrape: counter and bucket values by series key
// (name, or name|le for a histogram bucket), summed over other labels.
type serverMetrics map[string]float64

var scrapedSeries = []string{
	"gatehouse_decision_duration_seconds_bucket",
	"gatehouse_decision_duration_seconds_count",
	"go_sched_latencies_seconds_bucket",
	"go_sched_latencies_seconds_count",
	"go_gc_cycles_total_gc_cycles_total",
	"go_gc_heap_allocs_bytes_total",
	"go_cpu_classes_gc_total_cpu_seconds_total",
	"go_cpu_classes_gc_mark_assist_cpu_seconds_total",
	"go_sched_gomaxprocs_threads",
}

func scrapeMetrics(addr string) (serverMetrics, error) {
	k := newConn(addr, 10*time.Second)
	defer k.close()
	status, body, err := k.get("/metrics")
	if err != nil {
		return nil, err
	}
	if status != 200 {
		return nil, fmt.Errorf("GET /metrics: status %d", status)
	}
	return parseMetrics(body), nil
}

// parseMetrics reads the Prometheus text format's sample lines for the
// series in scrapedSeries; everything else is skipped.
func parseMetrics(text []byte) serverMetrics {
	m := serverMetrics{}
	sc := bufio.NewScanner(bytes.NewReader(text))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name, labels, value, ok := splitSample(line)
		if !ok || !wanted(name) {
			continue
		}
		key := name
		if strings.HasSuffix(name, "_bucket") {
			le, ok := labelValue(labels, "le")
			if !ok {
				continue
			}
			key = name + "|" + le
		}
		m[key] += value
	}
	return m
}

func wanted(name string) bool {
	for _, s := range scrapedSeries {
		if s == name {
			return true
		}
	}
	return false
}

// splitSample splits `name{labels} value [timestamp]`.
func splitSample(line string) (name, labels string, value float64, ok bool) {
	rest := line
	if i := strings.IndexByte(line, '{'); i >= 0 {
		j := strings.LastIndexByte(line, '}')
		if j < i {
			return "", "", 0, false
		}
		name, labels, rest = line[:i], line[i+1:j], line[j+1:]
	} else {
		i := strings.IndexByte(line, ' ')
		if i < 0 {
			return "", "", 0, false
		}
		name, rest = line[:i], line[i:]
	}
	fields := strings.Fields(rest)
	if len(fields) == 0 {
		return "", "", 0, false
	}
	v, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return "", "", 0, false
	}
	return name, labels, v, true
}

// labelValue finds name="value" in a label list (values here never hold
// quotes or commas: le bounds and endpoint names).
func labelValue(labels, name string) (string, bool) {
	for _, kv := range strings.Split(labels, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if ok && k == name {
			return strings.Trim(v, `"`), true
		}
	}
	return "", false
}

// bucketShare is one histogram bound and the share of observations at or
// under it.
type bucketShare struct {
	LE    float64 `json:"le_seconds"`
	Share float64 `json:"share"`
}

// serverSide is what gatehouse itself counted during one phase.
type serverSide struct {
	Decisions int64 `json:"decisions"`
	// DecisionWithin and SchedWithin are cumulative shares per bucket bound.
	DecisionWithin []bucketShare `json:"decision_duration_within"`
	SchedWaits     int64         `json:"sched_waits"`
	SchedWithin    []bucketShare `json:"sched_latency_within"`
	GCCycles       int64         `json:"gc_cycles"`
	GCCPU          float64       `json:"gc_cpu_seconds"`        // the collector's, assists included
	GCAssistCPU    float64       `json:"gc_assist_cpu_seconds"` // paid by allocating goroutines
	AllocPerReq    float64       `json:"alloc_bytes_per_decision"`
	Procs          int           `json:"gomaxprocs"` // after the loop; 0 when not exported
}

// diffMetrics turns two scrapes into a serverSide.
func diffMetrics(before, after serverMetrics) serverSide {
	d := func(key string) float64 { return after[key] - before[key] }
	s := serverSide{
		Decisions:   int64(d("gatehouse_decision_duration_seconds_count")),
		SchedWaits:  int64(d("go_sched_latencies_seconds_count")),
		GCCycles:    int64(d("go_gc_cycles_total_gc_cycles_total")),
		GCCPU:       d("go_cpu_classes_gc_total_cpu_seconds_total"),
		GCAssistCPU: d("go_cpu_classes_gc_mark_assist_cpu_seconds_total"),
		Procs:       int(after["go_sched_gomaxprocs_threads"]),
	}
	if s.Decisions > 0 {
		s.AllocPerReq = d("go_gc_heap_allocs_bytes_total") / float64(s.Decisions)
	}
	s.DecisionWithin = shares(before, after, "gatehouse_decision_duration_seconds_bucket", s.Decisions)
	s.SchedWithin = shares(before, after, "go_sched_latencies_seconds_bucket", s.SchedWaits)
	return s
}

func shares(before, after serverMetrics, name string, total int64) []bucketShare {
	var out []bucketShare
	if total <= 0 {
		return nil
	}
	for key, v := range after {
		bound, ok := strings.CutPrefix(key, name+"|")
		if !ok || bound == "+Inf" {
			continue
		}
		le, err := strconv.ParseFloat(bound, 64)
		if err != nil {
			continue
		}
		out = append(out, bucketShare{LE: le, Share: (v - before[key]) / float64(total)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LE < out[j].LE })
	return out
}

// beyond is the share of observations over the largest bound ≤ limit.
func beyond(b []bucketShare, limit float64) (bound, share float64, ok bool) {
	for _, x := range b {
		if x.LE <= limit*1.0001 {
			bound, share, ok = x.LE, 1-x.Share, true
		}
	}
	return bound, share, ok
}

// brief is the report's one line for s.
func (s serverSide) brief() string {
	var parts []string
	if b, sh, ok := beyond(s.DecisionWithin, 0.001); ok {
		parts = append(parts, fmt.Sprintf("decisions over %s: %.2f%%", fmtSeconds(b), 100*sh))
	}
	if b, sh, ok := beyond(s.DecisionWithin, 0.0025); ok {
		parts = append(parts, fmt.Sprintf("over %s: %.2f%%", fmtSeconds(b), 100*sh))
	}
	if b, sh, ok := beyond(s.SchedWithin, 0.001); ok {
		parts = append(parts, fmt.Sprintf("goroutine run waits over %s: %.3f%% of %d", fmtSeconds(b), 100*sh, s.SchedWaits))
	}
	if s.Procs > 0 {
		parts = append(parts, fmt.Sprintf("%d Ps", s.Procs))
	}
	gc := fmt.Sprintf("%d GC cycles", s.GCCycles)
	if s.GCCycles > 0 && s.GCCPU > 0 {
		gc += fmt.Sprintf(" (%s CPU each, %s of it assists)", fmtSeconds(s.GCCPU/float64(s.GCCycles)), fmtSeconds(s.GCAssistCPU/float64(s.GCCycles)))
	}
	parts = append(parts, gc, fmt.Sprintf("%.1f KiB allocated per decision", s.AllocPerReq/1024))
	return strings.Join(parts, "; ")
}

func fmtSeconds(s float64) string { return us(int64(math.Round(s * 1e6))) }
