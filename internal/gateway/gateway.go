// Package gateway is a proxy for Trino's client protocol that gives clients
// gatehouse's session impersonation: SET SESSION gatehouse.impersonate_user =
// 'alice', SHOW SESSION, RESET SESSION, as governance platforms offer them.
// Vanilla Trino rejects session properties it does not know, so the gateway
// answers those statements itself (internal/session decides what they mean)
// and forwards everything else to the coordinator, with gatehouse's
// properties stripped and, under impersonation, with X-Trino-User set to the
// target and X-Trino-Original-User to the connecting user. Trino then checks
// ImpersonateUser with gatehouse for every query, which is what makes the
// permission a query-time check: anyone can SET, only a permitted user's
// next query runs.
//
// The gateway keeps no state between requests (Trino clients hold their
// session), streams result pages through without holding them whole, and
// rewrites the URIs in Trino's responses so that clients keep coming back
// through it.
package gateway

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/gateway/statement"
	"github.com/gatehouse-authz/gatehouse/internal/session"
)

// Resolver says whom a session's queries run as: session.Resolve over the
// directory, in process or through gatehouse's SessionService.Resolve.
type Resolver interface {
	Resolve(ctx context.Context, props session.Props) (session.Resolved, error)
}

// Config is what a Gateway needs.
type Config struct {
	// Trino is the coordinator's base URL, e.g. http://trino:8080.
	Trino *url.URL
	// External is the gateway's base URL as clients reach it, written into
	// the URIs clients follow. Nil derives it from each request's Host
	// header (http, or https on a TLS connection), which is right unless a
	// proxy in front of the gateway changes the host or the scheme.
	External *url.URL
	// Mode is the impersonation mode for SET and RESET.
	Mode session.Mode
	// Resolver finds impersonation targets.
	Resolver Resolver
	// MaxBodyBytes bounds a request body (a statement's text); 0 means
	// DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Transport reaches Trino; nil means a tuned http.Transport.
	Transport http.RoundTripper
	// Log receives warnings (Trino or gatehouse unreachable); nil discards.
	Log *slog.Logger
}

// DefaultMaxBodyBytes bounds a statement unless configured otherwise.
const DefaultMaxBodyBytes = 16 << 20

// MaxHeaderBytes is the bound the gateway's HTTP server should put on
// request headers (http.Server.MaxHeaderBytes); X-Trino-Session and
// prepared statements live there.
const MaxHeaderBytes = 1 << 20

// peekBytes is how much of a statement is read to classify it. The
// statements the gateway answers are short; longer ones stream to Trino.
const peekBytes = 64 << 10

// Gateway is the proxy, an http.Handler.
type Gateway struct {
	trino    *url.URL
	ext      *url.URL
	mode     session.Mode
	resolver Resolver
	maxBody  int64
	log      *slog.Logger
	proxy    *httputil.ReverseProxy
}

// New checks cfg and returns a Gateway.
func New(cfg Config) (*Gateway, error) {
	if err := checkBaseURL("trino URL", cfg.Trino); err != nil {
		return nil, err
	}
	if cfg.External != nil {
		if err := checkBaseURL("external URL", cfg.External); err != nil {
			return nil, err
		}
	}
	if cfg.Resolver == nil {
		return nil, errors.New("gateway: a Resolver is required")
	}
	mode, err := session.ParseMode(string(cfg.Mode))
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	g := &Gateway{trino: cfg.Trino, ext: cfg.External, mode: mode, resolver: cfg.Resolver,
		maxBody: cfg.MaxBodyBytes, log: cfg.Log}
	if g.maxBody <= 0 {
		g.maxBody = DefaultMaxBodyBytes
	}
	if g.log == nil {
		g.log = slog.New(slog.DiscardHandler)
	}
	transport := cfg.Transport
	if transport == nil {
		transport = newTransport()
	}
	g.proxy = &httputil.ReverseProxy{
		Rewrite:        g.rewriteRequest,
		Transport:      transport,
		ModifyResponse: g.modifyResponse,
		ErrorHandler:   g.proxyError,
		ErrorLog:       slog.NewLogLogger(g.log.Handler(), slog.LevelDebug),
	}
	return g, nil
}

func checkBaseURL(what string, u *url.URL) error {
	switch {
	case u == nil:
		return fmt.Errorf("gateway: the %s is required", what)
	case u.Scheme != "http" && u.Scheme != "https", u.Host == "":
		return fmt.Errorf("gateway: the %s must be http(s)://host[:port], not %q", what, u.String())
	case u.Path != "" && u.Path != "/", u.RawQuery != "", u.User != nil:
		return fmt.Errorf("gateway: the %s must be a bare http(s)://host[:port], without path, query or credentials", what)
	}
	return nil
}

// newTransport is an http.Transport for one busy upstream. Compression is
// off so that pages arrive as JSON the gateway can rewrite as it streams;
// the gateway and the coordinator are expected to be close to each other.
func newTransport() *http.Transport {
	return &http.Transport{
		DialContext:            (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:           512,
		MaxIdleConnsPerHost:    512,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    10 * time.Second,
		ExpectContinueTimeout:  time.Second,
		DisableCompression:     true,
		MaxResponseHeaderBytes: MaxHeaderBytes,
	}
}

// reqInfo is what the gateway decided about a request before forwarding it,
// for the proxy's hooks.
type reqInfo struct {
	ext       *url.URL          // the gateway's URL for this client
	statement bool              // POST /v1/statement
	page      bool              // a statement page: its URIs are rewritten
	show      []session.Row     // SHOW SESSION rows to add to the last page
	marker    string            // show, encoded for the nextUris
	headers   func(http.Header) // edits to the forwarded headers
}

type infoKey struct{}

func infoOf(r *http.Request) *reqInfo {
	info, _ := r.Context().Value(infoKey{}).(*reqInfo)
	if info == nil {
		info = &reqInfo{}
	}
	return info
}

// external is the gateway's base URL as the client of r reaches it.
func (g *Gateway) external(r *http.Request) *url.URL {
	if g.ext != nil {
		return g.ext
	}
	u := &url.URL{Scheme: "http", Host: r.Host}
	if r.TLS != nil {
		u.Scheme = "https"
	}
	if u.Host == "" {
		u.Host = "localhost"
	}
	return u
}

// ServeHTTP routes: statements are classified, the gateway's own queries are
// answered, everything else is forwarded.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ext := g.external(r)
	r.Body = http.MaxBytesReader(w, r.Body, g.maxBody)
	path := r.URL.Path
	switch {
	case (path == "/v1/statement" || path == "/v1/statement/") && r.Method == http.MethodPost:
		g.serveStatement(w, r, ext)
		return
	case strings.HasPrefix(path, syntheticPath):
		serveSynthetic(w, r, ext)
		return
	case r.Method == http.MethodDelete && strings.HasPrefix(path, "/v1/query/") && isOurQueryID(strings.TrimPrefix(path, "/v1/query/")):
		w.WriteHeader(http.StatusNoContent) // cancelling a query the gateway answered
		return
	}
	info := &reqInfo{ext: ext}
	if strings.HasPrefix(path, "/v1/statement/") {
		// Pages of a running query: Trino finds the query by the URI, not by
		// the user, so only gatehouse's properties need to go.
		info.page = true
		if m := r.URL.Query().Get(showParam); m != "" {
			if rows, ok := decodeShow(m); ok {
				info.show, info.marker = rows, m
			}
		}
		info.headers = stripOurs(r.Header)
	} else {
		// Any other API (cancel by query id, query info, the web UI) acts as
		// the session's user, as statements do.
		edit, err := g.identity(r.Context(), r)
		if err != nil {
			g.identityFailed(w, ext, err, false)
			return
		}
		info.headers = edit
	}
	g.forward(w, r, info)
}

func (g *Gateway) forward(w http.ResponseWriter, r *http.Request, info *reqInfo) {
	g.proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), infoKey{}, info)))
}

// serveStatement handles POST /v1/statement.
func (g *Gateway) serveStatement(w http.ResponseWriter, r *http.Request, ext *url.URL) {
	br := bufio.NewReaderSize(r.Body, peekBytes)
	head, err := br.Peek(peekBytes)
	complete := errors.Is(err, io.EOF)
	if err != nil && !complete {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			answer(w, ext, g.tooLarge())
			return
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			http.Error(w, "gateway: reading the statement: "+err.Error(), http.StatusBadRequest)
			return
		}
	}
	st, perr := statement.Parse(string(head), complete)
	if errors.Is(perr, statement.ErrNeedMore) {
		// Rare: a long leading comment, or a session statement longer than
		// the window. Read it all (within the body limit) and decide.
		all, err := io.ReadAll(br)
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				answer(w, ext, g.tooLarge())
				return
			}
			http.Error(w, "gateway: reading the statement: "+err.Error(), http.StatusBadRequest)
			return
		}
		st, perr = statement.Parse(string(all), true)
		br = bufio.NewReader(bytes.NewReader(all))
	}
	if perr != nil {
		answer(w, ext, failure(errSyntax, perr.Error()))
		return
	}
	info := &reqInfo{ext: ext, statement: true, page: true}
	switch st.Kind {
	case statement.Set, statement.Reset:
		answer(w, ext, g.sessionStatement(r, st))
		return
	case statement.Show:
		// Trino lists its own properties; the connecting user runs the
		// listing, so that a session whose impersonation is not permitted
		// can still look at it. A pattern Trino will reject gets no rows
		// from us: Trino's error is the answer.
		info.headers = stripOurs(r.Header)
		props, herr := session.FromHeader(r.Header.Values(session.HeaderSession))
		var like *session.Pattern
		var lerr error
		if st.HasLike {
			like, lerr = session.CompileLike(st.Like, st.Escape)
		}
		if herr == nil && lerr == nil {
			if rows := session.Show(props, like); len(rows) > 0 {
				info.show, info.marker = rows, encodeShow(rows)
			}
		}
	default:
		edit, err := g.identity(r.Context(), r)
		if err != nil {
			g.identityFailed(w, ext, err, true)
			return
		}
		info.headers = edit
	}
	r.Body = struct {
		io.Reader
		io.Closer
	}{br, r.Body}
	g.forward(w, r, info)
}

// sessionStatement decides a gatehouse SET or RESET.
func (g *Gateway) sessionStatement(r *http.Request, st statement.Statement) outcome {
	props, err := session.FromHeader(r.Header.Values(session.HeaderSession))
	if err != nil {
		return sessionFailure(err)
	}
	if st.Kind == statement.Set {
		ch, err := session.Set(g.mode, props, st.Name, st.Value)
		if err != nil {
			return sessionFailure(err)
		}
		o := outcome{UpdateType: "SET SESSION"}
		for k, v := range ch.Set {
			o.Set = append(o.Set, [2]string{k, v})
		}
		return o
	}
	ch, err := session.Reset(g.mode, props, st.Name)
	if err != nil {
		return sessionFailure(err)
	}
	return outcome{UpdateType: "RESET SESSION", Clear: ch.Clear}
}

// sessionFailure is a session error as a Trino query error.
func sessionFailure(err error) outcome {
	var se *session.Error
	if !errors.As(err, &se) {
		return failure(errSessionProperty, err.Error())
	}
	switch se.Code {
	case session.CodeRefused:
		return failure(errNotSupported, se.Msg)
	case session.CodeNotFound:
		return failure(errPermission, "Access Denied: "+se.Msg)
	}
	return failure(errSessionProperty, se.Msg)
}

func (g *Gateway) tooLarge() outcome {
	return failure(errTextTooLarge, fmt.Sprintf("the statement is larger than the gateway's limit of %d bytes (gateway-max-body-bytes)", g.maxBody))
}

// stripOurs returns the header edit that removes gatehouse's properties from
// X-Trino-Session (Trino would take "gatehouse" for a catalog and fail).
func stripOurs(h http.Header) func(http.Header) {
	vals := h.Values(session.HeaderSession)
	if !session.HasOurs(vals) {
		return nil
	}
	kept := session.StripHeader(vals)
	return func(out http.Header) {
		if kept == nil {
			out.Del(session.HeaderSession)
		} else {
			out[session.HeaderSession] = kept
		}
	}
}

// identity computes the header edits that make a forwarded request act as
// the session's user: gatehouse's properties stripped, and under
// impersonation X-Trino-User set to the target's Trino name with
// X-Trino-Original-User set to the connecting user (the client's
// X-Trino-User, else its Basic-auth user). Trino then checks, with gatehouse,
// that the connecting user may impersonate the target, for this request.
// Authorization is left alone: the client still authenticates as itself.
func (g *Gateway) identity(ctx context.Context, r *http.Request) (func(http.Header), error) {
	vals := r.Header.Values(session.HeaderSession)
	strip := stripOurs(r.Header)
	if strip == nil {
		return nil, nil
	}
	props, err := session.FromHeader(vals)
	if err != nil {
		return nil, err
	}
	if _, active, err := props.Target(); err != nil || !active {
		return strip, err
	}
	res, err := g.resolver.Resolve(ctx, props)
	if err != nil {
		return nil, err
	}
	connecting := r.Header.Get(headerUser)
	if connecting == "" {
		connecting, _, _ = r.BasicAuth()
	}
	if !res.Active || res.TrinoUser == connecting {
		return strip, nil
	}
	return func(out http.Header) {
		strip(out)
		if connecting != "" {
			out.Set(headerOriginalUser, connecting)
		}
		out.Set(headerUser, res.TrinoUser)
	}, nil
}

// identityFailed answers a request whose session could not be applied.
func (g *Gateway) identityFailed(w http.ResponseWriter, ext *url.URL, err error, isStatement bool) {
	var se *session.Error
	o := sessionFailure(err)
	status := http.StatusBadRequest
	if !errors.As(err, &se) {
		g.log.Warn("gateway: resolving an impersonation failed", "err", err)
		o = failure(errUpstream, "gatehouse gateway: cannot resolve the session's impersonation because gatehouse does not answer; try again later")
		status = http.StatusBadGateway
	} else if se.Code == session.CodeNotFound {
		status = http.StatusForbidden
	}
	if isStatement {
		answer(w, ext, o)
		return
	}
	http.Error(w, o.ErrMsg, status)
}

// rewriteRequest prepares the request to Trino.
func (g *Gateway) rewriteRequest(pr *httputil.ProxyRequest) {
	pr.SetURL(g.trino)
	info := infoOf(pr.In)
	if info.headers != nil {
		info.headers(pr.Out.Header)
	}
	if info.page {
		if q := pr.Out.URL.Query(); q.Has(showParam) {
			q.Del(showParam)
			pr.Out.URL.RawQuery = q.Encode()
		}
		// Pages are rewritten as they stream; they must arrive as plain JSON.
		pr.Out.Header.Del("Accept-Encoding")
	}
}

// modifyResponse keeps the client coming back through the gateway: it
// rewrites Location headers and, in statement pages, the URIs; SHOW SESSION's
// last page gets gatehouse's rows.
func (g *Gateway) modifyResponse(resp *http.Response) error {
	info := infoOf(resp.Request)
	if loc := resp.Header.Get("Location"); loc != "" {
		resp.Header.Set("Location", g.externalURI(info, "", loc))
	}
	if !info.page || resp.StatusCode != http.StatusOK || !isJSON(resp.Header.Get("Content-Type")) {
		return nil
	}
	fn := func(name, v string) string { return g.externalURI(info, name, v) }
	if info.show != nil {
		return g.mergeShowPage(resp, fn, info.show)
	}
	upstream := resp.Body
	pr, pw := io.Pipe()
	go func() {
		err := rewriteURIs(pw, upstream, fn)
		upstream.Close()
		pw.CloseWithError(err)
	}()
	resp.Body = pipeBody{pr, upstream}
	resp.ContentLength = -1
	resp.Header.Del("Content-Length")
	return nil
}

// pipeBody is a rewritten page: closing it (the client went away) also
// closes Trino's body, so the rewriting goroutine ends.
type pipeBody struct {
	*io.PipeReader
	upstream io.Closer
}

func (p pipeBody) Close() error {
	p.PipeReader.Close()
	return p.upstream.Close()
}

func (g *Gateway) mergeShowPage(resp *http.Response, fn func(string, string) string, rows []session.Row) error {
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxShowPageBytes+1))
	if err != nil {
		return err
	}
	if len(raw) > maxShowPageBytes {
		return fmt.Errorf("gateway: a SHOW SESSION page is larger than %d bytes", maxShowPageBytes)
	}
	var page strings.Builder
	if err := rewriteURIs(&page, strings.NewReader(string(raw)), fn); err != nil {
		return err
	}
	out, err := mergeShow([]byte(page.String()), rows)
	if err != nil {
		return err
	}
	resp.Body = io.NopCloser(strings.NewReader(string(out)))
	resp.ContentLength = int64(len(out))
	resp.Header.Set("Content-Length", fmt.Sprint(len(out)))
	return nil
}

func isJSON(contentType string) bool {
	return strings.HasPrefix(strings.ToLower(strings.TrimSpace(contentType)), "application/json")
}

// externalURI points a URI Trino wrote for itself at the gateway; URIs to
// other hosts, and relative ones, are left alone. A SHOW SESSION's nextUri
// also carries the rows to add at the end.
func (g *Gateway) externalURI(info *reqInfo, field, v string) string {
	u, err := url.Parse(v)
	if err != nil || !strings.EqualFold(u.Host, g.trino.Host) || info.ext == nil {
		return v
	}
	u.Scheme, u.Host = info.ext.Scheme, info.ext.Host
	if field == "nextUri" && info.marker != "" {
		q := u.Query()
		q.Set(showParam, info.marker)
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// proxyError answers when Trino could not be asked or its answer could not
// be passed on. Statements get a failed query — the form every client shows
// well — never a bare 502 (which trino-go-client retries until its deadline).
// The cause is logged; the client learns what happened, not the internals.
func (g *Gateway) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	info := infoOf(r)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		if info.statement {
			answer(w, info.ext, g.tooLarge())
			return
		}
		http.Error(w, fmt.Sprintf("gateway: request body larger than %d bytes", g.maxBody), http.StatusRequestEntityTooLarge)
		return
	}
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		return // the client went away
	}
	g.log.Warn("gateway: Trino request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	msg := "gatehouse gateway: Trino did not answer (" + describe(err) + "); try again later"
	switch {
	case info.statement:
		answer(w, info.ext, failure(errUpstream, msg))
	case info.page && r.Method == http.MethodGet:
		id := pageQueryID(r.URL.Path)
		writeResults(w, &queryResults{ID: id, InfoURI: info.ext.JoinPath(syntheticPath, id).String(), Warnings: []string{},
			Stats: stats{State: "FAILED"}, Error: newQueryError(errUpstream, msg)})
	default:
		http.Error(w, msg, http.StatusBadGateway)
	}
}

// describe names the kind of failure without internal addresses.
func describe(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timed out"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "connection lost"
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return "host not found"
	}
	return "unreachable"
}

// pageQueryID reads the query id out of /v1/statement/{queued,executing}/<id>/...
func pageQueryID(path string) string {
	parts := strings.Split(strings.TrimPrefix(path, "/v1/statement/"), "/")
	if len(parts) >= 2 && parts[1] != "" {
		return parts[1]
	}
	return "unknown"
}
