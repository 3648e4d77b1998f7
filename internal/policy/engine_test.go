package policy

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
)

const goodBundle = `package trino

default allow := false

allow if input.user in data.allowed

batch := [i | some i, _ in input.items]

rowFilters := []

columnMask := {"expression": "NULL"} if input.mask

batchColumnMasks := []

greeting := "hello"
`

func writeBundle(t *testing.T, dir, rego, data string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "trino.rego"), []byte(rego), 0o644); err != nil {
		t.Fatal(err)
	}
	if data != "" {
		if err := os.WriteFile(filepath.Join(dir, "data.json"), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func input(t *testing.T, s string) ast.Value {
	t.Helper()
	v, err := ast.ParseTerm(s)
	if err != nil {
		t.Fatal(err)
	}
	return v.Value
}

func newEngine(t *testing.T, dir string, reloads *atomic.Int64, failures *atomic.Int64) *Engine {
	t.Helper()
	e, err := New(context.Background(), dir, WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
		WithReloadHook(func(err error) {
			reloads.Add(1)
			if err != nil {
				failures.Add(1)
			}
		}))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestReloadKeepsLastGoodBundle(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	writeBundle(t, dir, goodBundle, `{"allowed": ["alice"]}`)
	var reloads, failures atomic.Int64
	e := newEngine(t, dir, &reloads, &failures)

	v, ok, err := e.Eval(ctx, "allow", input(t, `{"user": "alice"}`))
	if err != nil || !ok || v != true {
		t.Fatalf("allow alice = %v %v %v", v, ok, err)
	}
	// A bundle that does not parse is rejected and counted; the old one serves.
	writeBundle(t, dir, "package trino\nallow if {", "")
	err = e.Reload(ctx)
	var be *BundleError
	if !errors.As(err, &be) {
		t.Fatalf("reload of a broken bundle: %v, want a BundleError", err)
	}
	if v, _, _ := e.Eval(ctx, "allow", input(t, `{"user": "alice"}`)); v != true {
		t.Fatal("broken bundle replaced the good one")
	}
	// A bundle missing an entry point is rejected too.
	writeBundle(t, dir, "package trino\nallow := true\n", "")
	if err := e.Reload(ctx); !errors.As(err, &be) {
		t.Fatalf("bundle without entry points accepted: %v", err)
	}
	// Data files change with the bundle: bob is allowed after a good reload.
	writeBundle(t, dir, goodBundle, `{"allowed": ["bob"]}`)
	if err := e.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if v, _, _ := e.Eval(ctx, "allow", input(t, `{"user": "alice"}`)); v != false {
		t.Fatal("old data survived the reload")
	}
	if v, _, _ := e.Eval(ctx, "allow", input(t, `{"user": "bob"}`)); v != true {
		t.Fatal("new data not loaded")
	}
	if reloads.Load() != 4 || failures.Load() != 2 {
		t.Fatalf("reloads %d failures %d, want 4 and 2", reloads.Load(), failures.Load())
	}
}

func TestReservedDirectoryKeyRejected(t *testing.T) {
	dir := t.TempDir()
	writeBundle(t, dir, goodBundle, `{"gatehouse": {"users": {}}}`)
	if _, err := New(context.Background(), dir, WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))); err == nil {
		t.Fatal("a bundle defining data.gatehouse was accepted")
	}
}

func TestEvalPathServesRulesOnly(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	writeBundle(t, dir, goodBundle, `{"allowed": ["alice"]}`)
	var n atomic.Int64
	e := newEngine(t, dir, &n, &n)
	if v, ok, err := e.EvalPath(ctx, []string{"trino", "greeting"}, nil); err != nil || !ok || v != "hello" {
		t.Fatalf("greeting = %v %v %v", v, ok, err)
	}
	if _, ok, err := e.EvalPath(ctx, []string{"trino", "columnMask"}, input(t, `{}`)); err != nil || ok {
		t.Fatalf("undefined rule: defined=%v err=%v", ok, err)
	}
	for _, p := range [][]string{{"allowed"}, {"gatehouse"}, {"gatehouse", "users"}, {"trino", "nope"}, {}} {
		if _, _, err := e.EvalPath(ctx, p, nil); !errors.Is(err, ErrUndefinedPath) {
			t.Errorf("path %v: %v, want ErrUndefinedPath", p, err)
		}
	}
}

func TestWatchReloadsOnChange(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	writeBundle(t, dir, goodBundle, `{"allowed": ["alice"]}`)
	var reloads, failures atomic.Int64
	e := newEngine(t, dir, &reloads, &failures)
	if err := e.Watch(ctx, 50*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	writeBundle(t, dir, goodBundle, `{"allowed": ["carol"]}`)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if v, _, _ := e.Eval(ctx, "allow", input(t, `{"user": "carol"}`)); v == true {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("file change not picked up (reloads %d)", reloads.Load())
}

func TestNonDeterministicBundlesAreNotCacheable(t *testing.T) {
	dir := t.TempDir()
	writeBundle(t, dir, goodBundle, `{"allowed": []}`)
	var n atomic.Int64
	e := newEngine(t, dir, &n, &n)
	if !e.Deterministic() {
		t.Fatal("a bundle of pure rules reported non-deterministic")
	}
	writeBundle(t, dir, goodBundle+"\nrecent if time.now_ns() > 0\n", "")
	if err := e.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if e.Deterministic() {
		t.Fatal("a bundle calling time.now_ns reported deterministic")
	}
}
