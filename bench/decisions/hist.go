package main

import (
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Latencies are recorded in microseconds into HDR histograms (3 significant
// digits, 1 µs to 10 minutes): constant memory and constant-time recording
// however many requests a phase sends, exact enough at every percentile,
// and mergeable, so each worker records into its own without locking.

const (
	histMinMicros = 1
	histMaxMicros = 10 * 60 * 1_000_000
	histDigits    = 3
)

func newHist() *hdrhistogram.Histogram {
	return hdrhistogram.New(histMinMicros, histMaxMicros, histDigits)
}

// record adds d, clamped into the histogram's range.
func record(h *hdrhistogram.Histogram, d time.Duration) {
	us := d.Microseconds()
	if us < histMinMicros {
		us = histMinMicros
	}
	if us > histMaxMicros {
		us = histMaxMicros
	}
	_ = h.RecordValue(us) // in range by construction
}

// summary is a latency distribution as the report shows it, in microseconds.
type summary struct {
	Count  int64   `json:"count"`
	MeanUs float64 `json:"mean_us"`
	P50Us  int64   `json:"p50_us"`
	P90Us  int64   `json:"p90_us"`
	P99Us  int64   `json:"p99_us"`
	P999Us int64   `json:"p99_9_us"`
	MaxUs  int64   `json:"max_us"`
}

func summarize(h *hdrhistogram.Histogram) summary {
	if h == nil || h.TotalCount() == 0 {
		return summary{}
	}
	return summary{
		Count:  h.TotalCount(),
		MeanUs: h.Mean(),
		P50Us:  h.ValueAtQuantile(50),
		P90Us:  h.ValueAtQuantile(90),
		P99Us:  h.ValueAtQuantile(99),
		P999Us: h.ValueAtQuantile(99.9),
		MaxUs:  h.Max(),
	}
}

// mergeHists folds per-worker histograms into one.
func mergeHists(hs []*hdrhistogram.Histogram) *hdrhistogram.Histogram {
	out := newHist()
	for _, h := range hs {
		out.Merge(h)
	}
	return out
}
