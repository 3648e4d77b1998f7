package main

import (
	"testing"
	"time"
)

func TestScheduleOffsets(t *testing.T) {
	s := schedule{rate: 5000, n: 100_000}
	if got := s.offset(1); got != 200*time.Microsecond {
		t.Errorf("offset(1) at 5,000/s = %s, want 200µs", got)
	}
	if got := s.offset(5000); got != time.Second {
		t.Errorf("offset(5000) = %s, want 1s", got)
	}
	if got := s.length(); got != 20*time.Second-200*time.Microsecond {
		t.Errorf("length = %s, want 19.9998s", got)
	}
	// Rates that do not divide a second: no drift over a long run.
	s = schedule{rate: 3, n: 10}
	if got := s.offset(3); got != time.Second {
		t.Errorf("offset(3) at 3/s = %s, want 1s", got)
	}
	if got := s.offset(1); got != 333333333 {
		t.Errorf("offset(1) at 3/s = %d ns, want 333333333", got)
	}
	if (schedule{rate: 10}).length() != 0 {
		t.Error("an empty schedule has a length")
	}
}

func TestScheduleDue(t *testing.T) {
	s := schedule{rate: 5000, n: 10}
	for _, c := range []struct {
		e    time.Duration
		want int
	}{
		{-time.Millisecond, 0},
		{0, 1}, // the first request is due at the start
		{199 * time.Microsecond, 1},
		{200 * time.Microsecond, 2},
		{time.Millisecond, 6},
		{time.Hour, 10}, // never more than n
	} {
		if got := s.due(c.e); got != c.want {
			t.Errorf("due(%s) = %d, want %d", c.e, got, c.want)
		}
	}
}

// TestScheduleDueAgreesWithOffset: request i becomes due exactly at
// offset(i), never a nanosecond earlier, for rates that divide a second and
// rates that do not (and more than one request per nanosecond, where
// several share an offset).
func TestScheduleDueAgreesWithOffset(t *testing.T) {
	for _, rate := range []int64{1, 3, 7, 999, 5000, 12345, 1_000_000_007} {
		s := schedule{rate: rate, n: 1 << 30}
		for _, i := range []int{0, 1, 2, 3, 10, 999, 5000, 123457, 10_000_000} {
			at := s.offset(i)
			if got := s.due(at); got <= i {
				t.Errorf("rate %d: due(offset(%d)=%d) = %d, want > %d", rate, i, at, got, i)
			}
			if at > 0 {
				if got := s.due(at - 1); got > i {
					t.Errorf("rate %d: due(offset(%d)-1) = %d, want ≤ %d", rate, i, got, i)
				}
			}
		}
	}
}
