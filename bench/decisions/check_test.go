package main

import (
	"os"
	"testing"
	"time"
)

func TestCheckAnswerAllow(t *testing.T) {
	for _, c := range []struct {
		resp string
		want uint64
		ok   bool
	}{
		{`{"result":true}`, digestTrue, true},
		{"{\"result\":false}\n", digestFalse, true},
		{`{"result": true, "decision_id": "x"}`, digestTrue, true},
		{`{}`, 0, false}, // undefined: gatehouse never answers it; OPA only without a default
		{`{"result":"yes"}`, 0, false},
		{`not json`, 0, false},
	} {
		d, _, err := checkAnswer(pathAllow, []byte(c.resp))
		if (err == nil) != c.ok || d != c.want {
			t.Errorf("%s: digest %d err %v", c.resp, d, err)
		}
	}
}

// OPA answers batch indices and masks in evaluation order, gatehouse sorted:
// the digests must not care.
func TestCheckAnswerBatchesIgnoreOrder(t *testing.T) {
	a, ka, err1 := checkAnswer(pathBatch, []byte(`{"result":[3,1,2]}`))
	b, kb, err2 := checkAnswer(pathBatch, []byte(`{"result":[1,2,3]}`))
	c, _, _ := checkAnswer(pathBatch, []byte(`{"result":[1,2]}`))
	if err1 != nil || err2 != nil || a != b || ka != 3 || kb != 3 || a == c || a == 0 {
		t.Errorf("batch digests %d %d %d, kept %d %d, errors %v %v", a, b, c, ka, kb, err1, err2)
	}
	if d, k, err := checkAnswer(pathBatch, []byte(`{"result":[]}`)); err != nil || d == 0 || k != 0 {
		t.Errorf("empty batch: %d %d %v", d, k, err)
	}
	if _, _, err := checkAnswer(pathBatch, []byte(`{}`)); err == nil {
		t.Error("a batch answer without result passed")
	}
	m1 := `{"result":[{"index":5,"viewExpression":{"expression":"'***'"}},{"index":1,"viewExpression":{"expression":"NULL","identity":null}}]}`
	m2 := `{"result":[{"index":1,"viewExpression":{"expression":"NULL"}},{"index":5,"viewExpression":{"expression":"'***'"}}]}`
	m3 := `{"result":[{"index":1,"viewExpression":{"expression":"NULL"}},{"index":5,"viewExpression":{"expression":"'***'","identity":"bob"}}]}`
	x, kx, err1 := checkAnswer(pathBatchColumnMasks, []byte(m1))
	y, _, err2 := checkAnswer(pathBatchColumnMasks, []byte(m2))
	z, _, _ := checkAnswer(pathBatchColumnMasks, []byte(m3))
	if err1 != nil || err2 != nil || x != y || x == z || kx != 2 {
		t.Errorf("mask digests %d %d %d (kept %d), errors %v %v", x, y, z, kx, err1, err2)
	}
	if _, _, err := checkAnswer(pathBatchColumnMasks, []byte(`{"result":[{"index":1}]}`)); err == nil {
		t.Error("a mask without an expression passed")
	}
}

func TestCompareDigests(t *testing.T) {
	ag := compareDigests([]uint64{1, 2, 0, 2, 1}, []uint64{1, 1, 2, 2})
	if ag.Compared != 3 || ag.Mismatches != 1 || ag.FirstIndex != 1 {
		t.Errorf("%+v", ag)
	}
}

func TestFormatting(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{us(83), "83 µs"}, {us(1234), "1.23 ms"}, {us(20_500), "20.5 ms"}, {us(123_456), "123 ms"}, {us(2_500_000), "2.50 s"},
		{fmtInt(0), "0"}, {fmtInt(999), "999"}, {fmtInt(1000), "1,000"}, {fmtInt(1234567), "1,234,567"}, {fmtInt(-1234), "-1,234"},
		{mib(1024 * 1024), "1,024 MiB"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

// A server whose CPU /proc cannot tell is reported as unknown, not idle.
func TestCPUUnknownWhenProcFails(t *testing.T) {
	m := startCPU(1 << 30) // no such process
	srv, _ := m.stop()
	if srv != unknownCPU {
		t.Fatalf("server CPU of a missing process = %v, want unknown", srv)
	}
	if got := cores(&phaseResult{ServerCPU: srv, GeneratorCPU: 0.5}); got != "n/a / 0.50" {
		t.Fatalf("cores = %q", got)
	}
	self := startCPU(os.Getpid())
	if srv, _ := self.stop(); srv < 0 {
		t.Fatalf("own CPU unknown: %v", srv)
	}
	var p phaseResult
	startCPU(1 << 30).stopInto(&p)
	if p.ServerCPU != unknownCPU || p.ServerWait != unknownCPU || p.GeneratorWait != unknownCPU {
		t.Fatalf("missing process: %+v", p)
	}
	if got := waits(&p); got != "n/a / n/a" {
		t.Fatalf("waits = %q", got)
	}
	// The harness's own threads: readable, and never negative.
	m = startCPU(os.Getpid())
	time.Sleep(10 * time.Millisecond)
	m.stopInto(&p)
	if p.ServerWait < 0 || p.GeneratorWait < 0 || p.ServerCPU < 0 {
		t.Fatalf("own waits unknown or negative: %+v", p)
	}
	if _, err := runQueueWait("self"); err != nil {
		t.Fatal(err)
	}
}
