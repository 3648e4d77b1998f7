package main

import (
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// within reports whether got is v to HDR's three significant digits.
func within(got, v int64) bool {
	d := got - v
	if d < 0 {
		d = -d
	}
	return d*1000 <= v
}

func TestSummary(t *testing.T) {
	h := newHist()
	for v := 1; v <= 10_000; v++ { // 1 µs .. 10 ms, evenly
		record(h, time.Duration(v)*time.Microsecond)
	}
	s := summarize(h)
	if s.Count != 10_000 {
		t.Errorf("count %d", s.Count)
	}
	for _, c := range []struct {
		name      string
		got, want int64
	}{{"p50", s.P50Us, 5000}, {"p90", s.P90Us, 9000}, {"p99", s.P99Us, 9900}, {"p99.9", s.P999Us, 9990}, {"max", s.MaxUs, 10_000}} {
		if !within(c.got, c.want) {
			t.Errorf("%s = %d µs, want %d", c.name, c.got, c.want)
		}
	}
	if s.MeanUs < 4995 || s.MeanUs > 5006 {
		t.Errorf("mean %.1f µs, want ~5000.5", s.MeanUs)
	}
}

func TestSummaryMergeAndEdges(t *testing.T) {
	if s := summarize(newHist()); s != (summary{}) {
		t.Errorf("empty histogram summarised as %+v", s)
	}
	if s := summarize(nil); s != (summary{}) {
		t.Errorf("nil histogram summarised as %+v", s)
	}
	// Per-worker histograms merge into the distribution of all of them.
	a, b := newHist(), newHist()
	for range 99 {
		record(a, 100*time.Microsecond)
	}
	record(b, 2*time.Second)
	s := summarize(mergeHists([]*hdrhistogram.Histogram{a, b}))
	if s.Count != 100 || !within(s.P50Us, 100) || !within(s.P99Us, 100) || !within(s.MaxUs, 2_000_000) {
		t.Errorf("merged: %+v", s)
	}
	// Out-of-range values are clamped, not dropped.
	c := newHist()
	record(c, 0)
	record(c, -time.Second)
	record(c, 24*time.Hour)
	s = summarize(c)
	if s.Count != 3 || s.P50Us != histMinMicros || !within(s.MaxUs, histMaxMicros) {
		t.Errorf("clamped: %+v", s)
	}
}
