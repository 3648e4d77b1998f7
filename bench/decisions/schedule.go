package main

import "time"

// schedule is an open-loop plan: n requests at a fixed rate, request i due
// at offset(i) after the start whatever happened to the ones before it.
// Latency is measured from that due time, so time spent waiting for a free
// connection behind a slow answer counts (no coordinated omission).
//
// Integer nanoseconds throughout, so that due and offset agree exactly:
// offset(i) = ⌊i·10⁹/rate⌋, and due(e) counts the i with offset(i) ≤ e.
type schedule struct {
	rate int64 // requests per second
	n    int
}

// offset is when request i is due, after the start.
func (s schedule) offset(i int) time.Duration {
	return time.Duration(int64(i) * int64(time.Second) / s.rate)
}

// due is how many requests are due at elapsed e (at most n): the i with
// ⌊i·10⁹/rate⌋ ≤ e, that is i·10⁹ < (e+1)·rate, so ⌈(e+1)·rate/10⁹⌉ of them.
func (s schedule) due(e time.Duration) int {
	if e < 0 {
		return 0
	}
	k := (int64(e+1)*s.rate + int64(time.Second) - 1) / int64(time.Second)
	if k > int64(s.n) {
		return s.n
	}
	return int(k)
}

// length is when the last request is due.
func (s schedule) length() time.Duration {
	if s.n == 0 {
		return 0
	}
	return s.offset(s.n - 1)
}
