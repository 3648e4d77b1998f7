package main

import (
	"math"
	"strings"
	"testing"
)

func TestServerSideDiffsHistogramsOverLabels(t *testing.T) {
	before := parseMetrics([]byte(`# HELP gatehouse_decision_duration_seconds x
gatehouse_decision_duration_seconds_bucket{endpoint="allow",le="0.001"} 90
gatehouse_decision_duration_seconds_bucket{endpoint="batch",le="0.001"} 5
gatehouse_decision_duration_seconds_bucket{endpoint="allow",le="0.0025"} 95
gatehouse_decision_duration_seconds_bucket{endpoint="batch",le="0.0025"} 5
gatehouse_decision_duration_seconds_bucket{endpoint="allow",le="+Inf"} 100
gatehouse_decision_duration_seconds_count{endpoint="allow"} 100
gatehouse_decision_duration_seconds_count{endpoint="batch"} 5
go_sched_latencies_seconds_bucket{le="0.0009175039999999999"} 1000
go_sched_latencies_seconds_count 1000
go_gc_cycles_total_gc_cycles_total 7
go_gc_heap_allocs_bytes_total 1e+06
go_cpu_classes_gc_total_cpu_seconds_total 1.5
go_cpu_classes_gc_mark_assist_cpu_seconds_total 0.25
`))
	after := parseMetrics([]byte(`gatehouse_decision_duration_seconds_bucket{endpoint="allow",le="0.001"} 1080
gatehouse_decision_duration_seconds_bucket{endpoint="batch",le="0.001"} 15
gatehouse_decision_duration_seconds_bucket{endpoint="allow",le="0.0025"} 1095
gatehouse_decision_duration_seconds_bucket{endpoint="batch",le="0.0025"} 15
gatehouse_decision_duration_seconds_count{endpoint="allow"} 1100
gatehouse_decision_duration_seconds_count{endpoint="batch"} 5
go_sched_latencies_seconds_bucket{le="0.0009175039999999999"} 2990
go_sched_latencies_seconds_count 3000
go_gc_cycles_total_gc_cycles_total 9
go_gc_heap_allocs_bytes_total 1.1e+07
go_sched_gomaxprocs_threads 4
go_cpu_classes_gc_total_cpu_seconds_total 1.7
go_cpu_classes_gc_mark_assist_cpu_seconds_total 0.26
`))
	s := diffMetrics(before, after)
	if s.Decisions != 1000 || s.SchedWaits != 2000 || s.GCCycles != 2 || s.AllocPerReq != 10000 || s.Procs != 4 {
		t.Fatalf("counts: %+v", s)
	}
	// 1000 decisions: 1000 ≤ 1 ms over both endpoints (990 + 10).
	if b, sh, ok := beyond(s.DecisionWithin, 0.001); !ok || b != 0.001 || math.Abs(sh) > 1e-9 {
		t.Fatalf("decisions over 1 ms: %v %v %v (%+v)", b, sh, ok, s.DecisionWithin)
	}
	if _, sh, _ := beyond(s.SchedWithin, 0.001); math.Abs(sh-0.005) > 1e-9 {
		t.Fatalf("sched waits over 0.92 ms: %v", sh)
	}
	if line := s.brief(); !strings.Contains(line, "goroutine run waits over 918 µs: 0.500% of 2000") || !strings.Contains(line, "4 Ps; 2 GC cycles (100 ms CPU each, 5.00 ms of it assists)") {
		t.Fatalf("brief: %s", line)
	}
}
