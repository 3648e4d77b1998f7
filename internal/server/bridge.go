package server

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"

	"github.com/valyala/fasthttp"
)

// netHTTPHandler serves a net/http handler (the admin API, /health,
// /metrics, the generic Data API) from the fasthttp front.
//
// It is written here rather than taken from fasthttpadaptor because that
// adaptor builds the http.Request without copying: its method, URL, path
// values, header keys and values point into fasthttp's read buffer, which
// the connection's next request overwrites. A handler that keeps any of
// them past its return (an audit record queued for the writer, a map key in
// the directory) would later read another request's bytes; CI's race
// detector caught exactly that. It also hands the handler the RequestCtx as
// its context, whose Value reads state fasthttp resets per request.
//
// Here the request owns everything it carries, its context is the server's
// (cancelled when a shutdown gives up), and the handler runs on fasthttp's
// goroutine with its answer buffered: nothing on these routes streams.
func netHTTPHandler(h http.Handler, base context.Context, log *slog.Logger) fasthttp.RequestHandler {
	return func(ctx *fasthttp.RequestCtx) {
		r, err := ownedRequest(ctx, base)
		if err != nil {
			ctx.Error("bad request: "+err.Error(), http.StatusBadRequest)
			return
		}
		w := &bufferedWriter{header: make(http.Header)}
		if !serveRecovering(h, w, r, log) {
			// As net/http does after a panic: no answer, the connection closed.
			ctx.Response.Reset()
			ctx.HijackSetNoResponse(true)
			ctx.Hijack(func(net.Conn) {}) // fasthttp closes it when this returns
			return
		}
		w.writeTo(ctx)
	}
}

// serveRecovering runs the handler and reports whether it returned.
// A panic is logged with its stack, except net/http's quiet
// http.ErrAbortHandler.
func serveRecovering(h http.Handler, w http.ResponseWriter, r *http.Request, log *slog.Logger) (ok bool) {
	defer func() {
		if p := recover(); p != nil {
			if p != http.ErrAbortHandler {
				log.Error("panic serving request", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			}
			ok = false
		}
	}()
	h.ServeHTTP(w, r)
	return true
}

// ownedRequest builds an http.Request from fasthttp's, copying every byte
// it holds (string(b) copies; fasthttp's b2s would not).
func ownedRequest(ctx *fasthttp.RequestCtx, base context.Context) (*http.Request, error) {
	requestURI := string(ctx.RequestURI())
	u, err := url.ParseRequestURI(requestURI)
	if err != nil {
		return nil, err
	}
	r := &http.Request{
		Method:     string(ctx.Method()),
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     make(http.Header),
		Host:       string(ctx.Host()),
		RemoteAddr: ctx.RemoteAddr().String(),
		RequestURI: requestURI,
	}
	if !ctx.Request.Header.IsHTTP11() {
		r.Proto, r.ProtoMinor = "HTTP/1.0", 0
	}
	for k, v := range ctx.Request.Header.All() {
		key := http.CanonicalHeaderKey(string(k))
		switch key {
		case "Host": // net/http keeps it in r.Host only
		case "Transfer-Encoding": // fasthttp has already read the chunks
			r.TransferEncoding = append(r.TransferEncoding, string(v))
		default:
			r.Header[key] = append(r.Header[key], string(v))
		}
	}
	body := bytes.Clone(ctx.PostBody())
	r.ContentLength = int64(len(body))
	r.Body = io.NopCloser(bytes.NewReader(body))
	if len(body) == 0 {
		r.Body = http.NoBody
	}
	return r.WithContext(base), nil
}

// bufferedWriter is an http.ResponseWriter that keeps the answer until the
// handler returns. As net/http's, it fixes the header at the first
// WriteHeader or Write, ignores 1xx and repeated WriteHeader calls, and
// detects a missing Content-Type from the body.
type bufferedWriter struct {
	header http.Header
	sent   http.Header // the header as it was when the status was written
	code   int
	body   bytes.Buffer
}

func (w *bufferedWriter) Header() http.Header { return w.header }

func (w *bufferedWriter) WriteHeader(code int) {
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	if w.code != 0 || (code < 200 && code != http.StatusSwitchingProtocols) {
		return
	}
	w.code = code
	w.sent = w.header.Clone()
}

func (w *bufferedWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return w.body.Write(p)
}

// writeTo puts the answer into fasthttp's response. fasthttp sets
// Content-Length from the body and leaves the body out for HEAD, 204 and 304.
func (w *bufferedWriter) writeTo(ctx *fasthttp.RequestCtx) {
	if w.code == 0 {
		w.WriteHeader(http.StatusOK)
	}
	ctx.SetStatusCode(w.code)
	hdr := &ctx.Response.Header
	for k, vs := range w.sent {
		switch k {
		case "Content-Length", "Transfer-Encoding":
			continue
		case "Content-Type":
			hdr.SetContentType(vs[0])
			continue
		}
		for _, v := range vs {
			hdr.Add(k, v)
		}
	}
	body := w.body.Bytes()
	if _, ok := w.sent["Content-Type"]; !ok {
		if len(body) > 0 {
			hdr.SetContentType(http.DetectContentType(body))
		} else {
			hdr.SetNoDefaultContentType(true)
		}
	}
	if strings.EqualFold(w.sent.Get("Connection"), "close") {
		ctx.SetConnectionClose()
	}
	ctx.SetBody(body)
}
