package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/valyala/fasthttp"
)

// The floor: the allow mix's open loop against a null server that reads
// each body and answers {"result":true} without looking at it, started like
// the measured servers (same priority, its own process). It is a fasthttp
// server, as gatehouse's decision endpoints are (internal/server/front.go).
// Its latency is what the generator, the loopback, the HTTP library and the
// machine's scheduling cost before any decision is made: a server's p99
// cannot be expected below it in the same run.

// nullServerEnv makes the harness binary serve as the null server on the
// address it holds instead of running (the harness re-executes itself).
const nullServerEnv = "GATEHOUSE_BENCH_NULL_SERVER"

// nullSpinEnv, a duration, makes the null server spin that long on the CPU
// for each decision (diagnostics: -floor-spin).
const nullSpinEnv = "GATEHOUSE_BENCH_NULL_SPIN"

// serveNull is the null server; it returns only on failure.
func serveNull(addr string) error {
	answer := []byte(`{"result":true}`)
	spin, _ := time.ParseDuration(os.Getenv(nullSpinEnv))
	srv := &fasthttp.Server{NoDefaultServerHeader: true, Handler: func(ctx *fasthttp.RequestCtx) {
		ctx.SetContentType("application/json")
		if ctx.IsGet() && string(ctx.Path()) == "/health" {
			ctx.SetBodyString("{}")
			return
		}
		if !ctx.IsPost() {
			ctx.SetStatusCode(http.StatusMethodNotAllowed)
			return
		}
		_ = ctx.PostBody()
		for t := time.Now(); time.Since(t) < spin; {
		}
		ctx.SetBody(answer)
	}}
	return srv.ListenAndServe(addr)
}

// runFloor measures the open loop of the allow mix against the null server.
func runFloor(ctx context.Context, p plan, w *workload, runDir string, env []string, spin time.Duration, nice int, logf func(string, ...any)) (*phaseResult, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	name, args := atNormalPriority(nice, self, nil)
	srv, err := startServer(ctx, "null", addr, filepath.Join(runDir, "null.log"), name, args, append(env, nullServerEnv+"="+addr, nullSpinEnv+"="+spin.String()))
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	logf("floor: the allow-mix open loop against a null server on %s (spinning %s per decision)", addr, spin)
	meter := startCPU(srv.cmd.Process.Pid)
	r, err := openLoop(ctx, addr, w.open, p.Rate, p.OpenConns, p.Grace, p.Timeout)
	meter.stopInto(&r)
	if err != nil {
		return nil, fmt.Errorf("floor: %w", err)
	}
	fmt.Fprintf(os.Stderr, "  null: %-26s %s\n", "floor (open loop)", r.brief())
	return &r, nil
}
