package server

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// seen is what a handler kept of a request after answering it.
type seen struct {
	method, path, query, pathValue, header, body, host string
}

// startBridge serves h through the bridge on a loopback listener.
func startBridge(t *testing.T, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: netHTTPHandler(h, context.Background(), slog.New(slog.DiscardHandler))}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	return ln.Addr().String()
}

// roundTrip writes raw requests on one connection and reads their answers.
func roundTrip(t *testing.T, addr string, reqs ...string) []*http.Response {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	br := bufio.NewReader(conn)
	var out []*http.Response
	for _, raw := range reqs {
		if _, err := io.WriteString(conn, raw); err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(strings.Fields(raw)[0], "/", nil)
		resp, err := http.ReadResponse(br, req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		resp.Body = io.NopCloser(strings.NewReader(string(b)))
		out = append(out, resp)
	}
	return out
}

// What a handler keeps of a request must stay as it was after fasthttp
// reads the connection's next request into the same buffer: the admin API
// queues audit records holding path values and headers.
func TestBridgeRequestOwnsItsBytes(t *testing.T) {
	var mu sync.Mutex
	var kept []seen
	mux := http.NewServeMux()
	mux.HandleFunc("POST /items/{name}", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		kept = append(kept, seen{r.Method, r.URL.Path, r.URL.Query().Get("q"), r.PathValue("name"), r.Header.Get("X-Probe"), string(b), r.Host})
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	addr := startBridge(t, mux)
	req := func(c byte) string {
		s := strings.Repeat(string(c), 8)
		return fmt.Sprintf("POST /items/%s?q=%s HTTP/1.1\r\nHost: h%s\r\nX-Probe: %s\r\nContent-Length: 8\r\n\r\n%s", s, s, s, s, s)
	}
	for _, resp := range roundTrip(t, addr, req('a'), req('b'), req('c')) {
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for i, c := range "abc" {
		s := strings.Repeat(string(c), 8)
		want := seen{"POST", "/items/" + s, s, s, s, s, "h" + s}
		if kept[i] != want {
			t.Errorf("request %d kept %+v, want %+v", i, kept[i], want)
		}
	}
}

// The answer is net/http's: the header as it was at WriteHeader, repeated
// fields kept, a missing Content-Type detected from the body, none for an
// empty body, 1xx and second WriteHeader calls ignored.
func TestBridgeAnswersAsNetHTTPWould(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /fixed", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Add("Vary", "A")
		w.Header().Add("Vary", "B")
		w.WriteHeader(http.StatusContinue) // interim: not the status
		w.WriteHeader(http.StatusCreated)
		w.WriteHeader(http.StatusTeapot)
		w.Header().Set("X-Late", "1") // after the header was written: not sent
		_, _ = io.WriteString(w, `{"ok":true}`)
	})
	mux.HandleFunc("GET /sniffed", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "<html><body>hi</body></html>")
	})
	mux.HandleFunc("GET /empty", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s|%s|%d|%v|%q", b, r.Host, r.ContentLength, r.TransferEncoding, r.Header.Get("Host"))
	})
	addr := startBridge(t, mux)
	resps := roundTrip(t, addr,
		"GET /fixed HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /sniffed HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /empty HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
		"HEAD /sniffed HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n",
	)
	body := func(r *http.Response) string { b, _ := io.ReadAll(r.Body); return string(b) }

	if r := resps[0]; r.StatusCode != http.StatusCreated || r.Header.Get("Content-Type") != "application/json" ||
		strings.Join(r.Header.Values("Vary"), ",") != "A,B" || r.Header.Get("X-Late") != "" || body(r) != `{"ok":true}` {
		t.Errorf("fixed: %d %v", r.StatusCode, r.Header)
	}
	if r := resps[1]; r.StatusCode != 200 || r.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("sniffed: %d %v", r.StatusCode, r.Header)
	}
	if r := resps[2]; r.StatusCode != 200 || r.Header.Get("Content-Type") != "" || r.ContentLength != 0 {
		t.Errorf("empty: %d %v", r.StatusCode, r.Header)
	}
	if r := resps[3]; body(r) != `abcde|x|5|[chunked]|""` {
		t.Errorf("chunked echo: %q", body(r))
	}
	if r := resps[4]; r.StatusCode != 200 || body(r) != "" {
		t.Errorf("HEAD: %d %q", r.StatusCode, body(r))
	}
	if r := resps[5]; r.StatusCode != 404 || !strings.Contains(body(r), "404 page not found") {
		t.Errorf("unknown path: %d", r.StatusCode)
	}
}

// A handler's context is the server's, not fasthttp's RequestCtx: values
// set on it are seen, and cancelling it (a shutdown giving up) reaches the
// handler.
func TestBridgeContextIsTheServers(t *testing.T) {
	type key struct{}
	base, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "server"))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%v %v", r.Context().Value(key{}), r.Context().Err())
	})
	srv := &fasthttp.Server{Handler: netHTTPHandler(h, base, slog.New(slog.DiscardHandler))}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Shutdown()
	get := func() string {
		r := roundTrip(t, ln.Addr().String(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n")[0]
		b, _ := io.ReadAll(r.Body)
		return string(b)
	}
	if got := get(); got != "server <nil>" {
		t.Errorf("before cancel: %q", got)
	}
	cancel()
	if got := get(); got != "server context canceled" {
		t.Errorf("after cancel: %q", got)
	}
}

// A panicking handler gets no answer and its connection closed, as under
// net/http; the server goes on serving.
func TestBridgeClosesTheConnectionAfterAPanic(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /panic", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "partial")
		panic("boom")
	})
	mux.HandleFunc("GET /abort", func(w http.ResponseWriter, r *http.Request) { panic(http.ErrAbortHandler) })
	mux.HandleFunc("GET /ok", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") })
	addr := startBridge(t, mux)
	for _, path := range []string{"/panic", "/abort"} {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second)) // a kept-alive connection would hang ReadAll
		_, _ = io.WriteString(conn, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n")
		got, err := io.ReadAll(conn)
		conn.Close()
		if len(got) != 0 {
			t.Errorf("%s: answered %q (%v), want the connection closed", path, got, err)
		}
	}
	if r := roundTrip(t, addr, "GET /ok HTTP/1.1\r\nHost: x\r\n\r\n")[0]; r.StatusCode != 200 {
		t.Errorf("after the panics: %d", r.StatusCode)
	}
}
