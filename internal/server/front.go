package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/gatehouse-authz/gatehouse/internal/trino"
)

// The HTTP listener is served by fasthttp, not net/http.
//
// Trino asks one small question per check, thousands a second, on a few
// keep-alive connections. Go's net/http costs about 100 µs of CPU per such
// request on a 2-core VM: per request it allocates the header map, request
// and contexts, and starts a goroutine that waits in a background read so
// that it can notice a client going away, then wakes and stops it when the
// answer is written. A fasthttp server doing the same null work measured
// 0.29 cores at 5,000 req/s against net/http's 0.51 (docs/performance.md),
// and those cores are what decisions queue for when the garbage collector
// takes its quarter.
//
// Only the Trino decision endpoints are served by fasthttp directly. Every
// other route (admin REST API, /health, /metrics, OPA's generic Data API,
// wrong methods and unknown paths) goes to the same net/http ServeMux as
// before, through netHTTPHandler (bridge.go), so its behaviour is net/http's.

// frontLimits are the listener's bounds, as net/http's were.
const (
	frontReadBuffer   = 64 << 10 // request line and headers must fit (net/http allowed 1 MiB of headers; 64 KiB is ample for tokens)
	frontReadTimeout  = 60 * time.Second
	frontWriteTimeout = 60 * time.Second
	// frontIdleTimeout closes a keep-alive connection idle this long;
	// Trino's HTTP client closes its own idle connections well before.
	frontIdleTimeout = 10 * time.Minute
)

type front struct {
	srv       *fasthttp.Server
	decisions map[string]string // exact path → Trino endpoint
	trino     *trino.Handler
	fallback  fasthttp.RequestHandler
	metrics   *httpMetrics
	// base is the context decisions run under: cancelled only when a
	// shutdown gives up waiting. (A fasthttp RequestCtx is a context too,
	// but not one the context package can attach to without a goroutine.)
	base context.Context
}

func newFront(h *trino.Handler, mux http.Handler, m *httpMetrics, maxBody int64, log *slog.Logger, base context.Context) *front {
	f := &front{decisions: trino.EntryPaths(), trino: h, metrics: m, base: base}
	f.fallback = netHTTPHandler(m.instrument(mux), base, log)
	f.srv = &fasthttp.Server{
		Handler:                       f.serve,
		ErrorHandler:                  f.protocolError,
		Name:                          "gatehouse",
		ReadBufferSize:                frontReadBuffer,
		ReadTimeout:                   frontReadTimeout,
		WriteTimeout:                  frontWriteTimeout,
		IdleTimeout:                   frontIdleTimeout,
		MaxRequestBodySize:            int(maxBody),
		DisablePreParseMultipartForm:  true,
		NoDefaultServerHeader:         true,
		DisableHeaderNamesNormalizing: false,
		CloseOnShutdown:               true,
		Logger:                        fasthttpLogger{log},
	}
	return f
}

func (f *front) serve(ctx *fasthttp.RequestCtx) {
	if ctx.IsPost() {
		// The raw path: anything not exactly a decision path (a query
		// string aside) is left to the ServeMux, which cleans or refuses it.
		if ep, ok := f.decisions[string(ctx.URI().PathOriginal())]; ok {
			f.decide(ctx, ep)
			return
		}
	}
	f.fallback(ctx)
}

// decide answers a Trino decision. The body is copied: fasthttp reuses its
// buffer for the connection's next request, and trino.Handler.Serve may keep
// what it is given (today the decoder and the decision cache copy what they
// keep, but nothing in Serve's contract says they must; the copy costs a
// fraction of a microsecond for Trino's small checks).
func (f *front) decide(ctx *fasthttp.RequestCtx, endpoint string) {
	start := time.Now()
	status, out := f.trino.Serve(f.base, endpoint, bytes.Clone(ctx.PostBody()))
	ctx.SetStatusCode(status)
	ctx.SetContentType("application/json")
	ctx.SetBody(out)
	f.metrics.observeDecision(endpoint, status, time.Since(start))
}

// protocolError answers what fasthttp could not read as a request: a body
// over the limit gets the decision endpoints' JSON 413; the rest, as
// net/http would, a plain 400 or 408.
func (f *front) protocolError(ctx *fasthttp.RequestCtx, err error) {
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		ctx.SetStatusCode(http.StatusRequestEntityTooLarge)
		ctx.SetContentType("application/json")
		ctx.SetBody(f.trino.TooLarge())
	case isTimeout(err):
		ctx.Error("request timeout", http.StatusRequestTimeout)
	default:
		ctx.Error("bad request: "+err.Error(), http.StatusBadRequest)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// fasthttpLogger sends fasthttp's own messages (connection errors) to slog
// at warning level, as net/http's ErrorLog did.
type fasthttpLogger struct{ log *slog.Logger }

func (l fasthttpLogger) Printf(format string, args ...any) {
	l.log.Warn(fmt.Sprintf(format, args...))
}
