package userinfo

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-authz/gatehouse/internal/directory"
)

// Defaults of a Client; config overrides them (userinfo-timeout,
// userinfo-retries).
const (
	DefaultTimeout = 5 * time.Second
	DefaultRetries = 2
	DefaultBackoff = 200 * time.Millisecond
	maxBackoff     = 5 * time.Second
)

// Client fetches answers from user-info endpoints. One Client serves every
// IAM: it keeps one HTTP transport per set of TLS files, so connections are
// reused across users, and rebuilds it when a file changes (certificates are
// rotated in place). It is safe for concurrent use.
type Client struct {
	timeout time.Duration
	retries int
	backoff time.Duration
	metrics *Metrics
	sleep   func(ctx context.Context, d time.Duration) error

	mu         sync.Mutex
	transports map[tlsFiles]*cachedTransport
}

// ClientOption configures a Client.
type ClientOption func(*Client)

// WithTimeout bounds each request (connect, TLS, answer); default 5 s.
func WithTimeout(d time.Duration) ClientOption { return func(c *Client) { c.timeout = d } }

// WithRetries sets how many times a failed request that may succeed later
// (connection error, timeout, 408, 429, 5xx) is tried again, and the first
// backoff, which doubles each time with jitter, up to 5 s.
func WithRetries(n int, backoff time.Duration) ClientOption {
	return func(c *Client) { c.retries, c.backoff = n, backoff }
}

// WithMetrics counts requests and syncs in m.
func WithMetrics(m *Metrics) ClientOption { return func(c *Client) { c.metrics = m } }

// NewClient returns a Client.
func NewClient(opts ...ClientOption) *Client {
	c := &Client{timeout: DefaultTimeout, retries: DefaultRetries, backoff: DefaultBackoff,
		sleep: sleepCtx, transports: map[tlsFiles]*cachedTransport{}}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Metrics returns the metrics the client counts in, or nil.
func (c *Client) Metrics() *Metrics { return c.metrics }

// FetchError is a request that got no usable answer. Its message names the
// endpoint (without query or credentials) and what went wrong, never the
// password, so it can be logged and shown on the user.
type FetchError struct {
	// Reason is the metrics label: timeout, connect, tls, status,
	// malformed, config or canceled.
	Reason string
	// Status is the HTTP status of a "status" error.
	Status int
	Msg    string
	retry  bool
}

func (e *FetchError) Error() string { return e.Msg }

// Fetch asks ep about the user whose id there is userID, retrying as
// configured. iam only labels metrics.
func (c *Client) Fetch(ctx context.Context, iam string, ep directory.UserInfoEndpoint, userID string) (Info, error) {
	var info Info
	var err error
	attempts := 0
	for {
		start := time.Now()
		info, err = c.fetchOnce(ctx, ep, userID)
		attempts++
		c.metrics.request(iam, reasonOf(err), time.Since(start))
		var fe *FetchError
		if err == nil || !errors.As(err, &fe) || !fe.retry || attempts > c.retries || ctx.Err() != nil {
			break
		}
		if c.sleep(ctx, c.backoffFor(attempts-1)) != nil {
			break
		}
	}
	var fe *FetchError
	if attempts > 1 && errors.As(err, &fe) {
		fe.Msg = fmt.Sprintf("%s (after %d attempts)", fe.Msg, attempts)
	}
	return info, err
}

// backoffFor is the wait before retry number attempt+1: exponential, with
// "equal jitter" (half fixed, half random) so that replicas retrying the
// same endpoint after an outage spread out.
func (c *Client) backoffFor(attempt int) time.Duration {
	d := c.backoff << attempt
	if d <= 0 || d > maxBackoff {
		d = maxBackoff
	}
	return d/2 + rand.N(d/2+1)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func reasonOf(err error) string {
	if err == nil {
		return "ok"
	}
	var fe *FetchError
	if errors.As(err, &fe) {
		return fe.Reason
	}
	return "config"
}

func (c *Client) fetchOnce(ctx context.Context, ep directory.UserInfoEndpoint, userID string) (Info, error) {
	tr, err := c.transport(ep)
	if err != nil {
		// Files that were readable when the IAM was saved may have gone.
		return Info{}, &FetchError{Reason: "config", Msg: err.Error()}
	}
	u, err := url.Parse(ep.URI)
	if err != nil {
		return Info{}, &FetchError{Reason: "config", Msg: "userInfo.uri is not a valid URL"}
	}
	q := u.Query()
	q.Set("userid", userID)
	u.RawQuery = q.Encode()
	where := "GET " + redact(u)

	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return Info{}, &FetchError{Reason: "config", Msg: where + ": " + err.Error()}
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "gatehouse-userinfo")
	if ep.Username != "" {
		req.SetBasicAuth(ep.Username, ep.Password)
	}
	hc := &http.Client{
		Transport: tr,
		// Redirects are not followed: Basic credentials must go to the
		// configured endpoint and nowhere else. A 3xx is a failed sync.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := hc.Do(req)
	if err != nil {
		return Info{}, transportError(ctx, where, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
		code := resp.StatusCode
		return Info{}, &FetchError{Reason: "status", Status: code,
			Msg:   fmt.Sprintf("%s: HTTP %d %s", where, code, http.StatusText(code)),
			retry: code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBodyBytes+1))
	if err != nil {
		return Info{}, transportError(ctx, where+": reading the answer", err)
	}
	info, err := Parse(body)
	if err != nil {
		return Info{}, &FetchError{Reason: "malformed", Msg: where + ": " + err.Error()}
	}
	return info, nil
}

// redact drops the query (the user id) from a URL shown in messages: the
// endpoint is what an admin needs to see. URLs never carry credentials (see
// directory.UserInfoEndpoint.Validate).
func redact(u *url.URL) string {
	v := *u
	v.RawQuery, v.User = "", nil
	return v.String()
}

// transportError classifies a failed round trip. Everything but a cancelled
// caller may be worth retrying.
func transportError(ctx context.Context, where string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		return &FetchError{Reason: "timeout", Msg: where + ": no answer within the timeout", retry: true}
	case ctx.Err() != nil:
		return &FetchError{Reason: "canceled", Msg: where + ": canceled"}
	case isTLSError(err):
		return &FetchError{Reason: "tls", Msg: where + ": TLS: " + err.Error(), retry: true}
	}
	return &FetchError{Reason: "connect", Msg: where + ": " + err.Error(), retry: true}
}

func isTLSError(err error) bool {
	var (
		unknown  x509.UnknownAuthorityError
		invalid  x509.CertificateInvalidError
		hostname x509.HostnameError
		verify   *tls.CertificateVerificationError
		alert    tls.AlertError
		record   tls.RecordHeaderError
	)
	return errors.As(err, &unknown) || errors.As(err, &invalid) || errors.As(err, &hostname) ||
		errors.As(err, &verify) || errors.As(err, &alert) || errors.As(err, &record) ||
		strings.Contains(err.Error(), "tls: ")
}

// maxTransports bounds the transport cache: one per distinct set of TLS
// files, which is about one per identity provider.
const maxTransports = 64

// tlsFiles identifies a transport: the files its TLS configuration reads.
type tlsFiles struct{ ca, cert, key string }

// cachedTransport is a transport with the state of the files it was built from.
type cachedTransport struct {
	stamp string
	tr    *http.Transport
}

// transport returns the transport for ep's TLS files, building it when the
// files are new or changed since last time.
func (c *Client) transport(ep directory.UserInfoEndpoint) (*http.Transport, error) {
	key := tlsFiles{ep.CAFile, ep.CertFile, ep.KeyFile}
	stamp := fileStamp(key.ca, key.cert, key.key)
	c.mu.Lock()
	defer c.mu.Unlock()
	if ct := c.transports[key]; ct != nil && ct.stamp == stamp {
		return ct.tr, nil
	}
	cfg, err := TLSConfig(ep)
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: c.timeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       cfg,
		TLSHandshakeTimeout:   c.timeout,
		ResponseHeaderTimeout: c.timeout,
		MaxIdleConnsPerHost:   8,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	if old := c.transports[key]; old != nil {
		old.tr.CloseIdleConnections()
	}
	if len(c.transports) >= maxTransports {
		// TLS file paths changed many times over: start afresh rather than
		// keep transports nobody uses.
		for k, ct := range c.transports {
			ct.tr.CloseIdleConnections()
			delete(c.transports, k)
		}
	}
	c.transports[key] = &cachedTransport{stamp: stamp, tr: tr}
	return tr, nil
}

// fileStamp summarises the files' sizes and modification times.
func fileStamp(paths ...string) string {
	var b strings.Builder
	for _, p := range paths {
		if p == "" {
			b.WriteString("-|")
			continue
		}
		if fi, err := os.Stat(p); err == nil {
			fmt.Fprintf(&b, "%d.%d|", fi.Size(), fi.ModTime().UnixNano())
		} else {
			b.WriteString("?|")
		}
	}
	return b.String()
}

// TLSConfig builds the client TLS configuration of ep from its PEM files: a
// CA file replaces the system roots (the endpoint's certificate must chain to
// it), a certificate and key are presented to endpoints that require one.
// Errors are directory.ErrInvalid naming the setting to fix.
func TLSConfig(ep directory.UserInfoEndpoint) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if ep.CAFile != "" {
		pemBytes, err := os.ReadFile(ep.CAFile)
		if err != nil {
			return nil, directory.Invalid("userInfo.caFile", "userInfo.caFile %s cannot be read: %v", ep.CAFile, pathErr(err))
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pemBytes) {
			return nil, directory.Invalid("userInfo.caFile", "userInfo.caFile %s holds no PEM certificate", ep.CAFile)
		}
		cfg.RootCAs = pool
	}
	if ep.CertFile != "" || ep.KeyFile != "" {
		certPEM, err := os.ReadFile(ep.CertFile)
		if err != nil {
			return nil, directory.Invalid("userInfo.certFile", "userInfo.certFile %s cannot be read: %v", ep.CertFile, pathErr(err))
		}
		keyPEM, err := os.ReadFile(ep.KeyFile)
		if err != nil {
			return nil, directory.Invalid("userInfo.keyFile", "userInfo.keyFile %s cannot be read: %v", ep.KeyFile, pathErr(err))
		}
		if !hasPEM(certPEM, "CERTIFICATE") {
			return nil, directory.Invalid("userInfo.certFile", "userInfo.certFile %s holds no PEM certificate", ep.CertFile)
		}
		if !hasPEM(keyPEM, "PRIVATE KEY") {
			return nil, directory.Invalid("userInfo.keyFile", "userInfo.keyFile %s holds no PEM private key", ep.KeyFile)
		}
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, directory.Invalid("userInfo.keyFile", "userInfo.keyFile %s does not fit userInfo.certFile %s: %v",
				ep.KeyFile, ep.CertFile, strings.TrimPrefix(err.Error(), "tls: "))
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

// hasPEM reports whether data holds a PEM block whose type ends with suffix
// ("PRIVATE KEY" matches RSA, EC and PKCS#8 keys).
func hasPEM(data []byte, suffix string) bool {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return false
		}
		if strings.HasSuffix(b.Type, suffix) {
			return true
		}
	}
}

// pathErr drops the path that os errors repeat.
func pathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Check tells whether ep can be used, before an IAM naming it is saved: its
// form, its PEM files, and that its host accepts a connection (and, over
// https, completes a TLS handshake trusting the configured CA). It sends no
// HTTP request, so checking does not show up as a lookup at the IAM. Errors
// are directory.ErrInvalid naming the setting to fix.
func (c *Client) Check(ctx context.Context, ep directory.UserInfoEndpoint) error {
	if err := ep.Validate(); err != nil {
		return err
	}
	cfg, err := TLSConfig(ep)
	if err != nil {
		return err
	}
	u, _ := url.Parse(ep.URI) // Validate parsed it
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	addr := net.JoinHostPort(u.Hostname(), port)
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		msg := strings.TrimPrefix(pathErr(err).Error(), "dial tcp ")
		if ctx.Err() != nil {
			msg = "no connection within " + c.timeout.String()
		}
		return directory.Invalid("userInfo.uri", "userInfo.uri %s is unreachable: %s", redact(u), msg)
	}
	defer conn.Close()
	if u.Scheme != "https" {
		return nil
	}
	cfg.ServerName = u.Hostname()
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		var unknown x509.UnknownAuthorityError
		var verify *tls.CertificateVerificationError
		if errors.As(err, &unknown) || errors.As(err, &verify) {
			field, hint := "userInfo.caFile", "userInfo.caFile does not hold the CA that signed it"
			if ep.CAFile == "" {
				field, hint = "userInfo.uri", "set userInfo.caFile to the CA that signed it"
			}
			return directory.Invalid(field, "userInfo.uri %s presents a certificate gatehouse does not trust (%s): %v",
				redact(u), hint, strings.TrimPrefix(err.Error(), "tls: "))
		}
		return handshakeError(ep, u, err)
	}
	// Under TLS 1.3 a server that rejects the client certificate says so
	// only after the client's handshake is done: wait briefly for that alert.
	// Silence (the server awaits a request) is success.
	_ = tc.SetReadDeadline(time.Now().Add(clientCertProbe))
	var one [1]byte
	if _, err := tc.Read(one[:]); err != nil && !isTimeout(err) && !errors.Is(err, io.EOF) {
		return handshakeError(ep, u, err)
	}
	return nil
}

// clientCertProbe is how long Check waits for a TLS 1.3 server to reject
// the client certificate. A slower rejection is not caught here; the sync
// then fails and says so on the user.
const clientCertProbe = 250 * time.Millisecond

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// handshakeError names the setting a failed TLS exchange points at: the
// client certificate when the server refused it, else the URI.
func handshakeError(ep directory.UserInfoEndpoint, u *url.URL, err error) error {
	msg := err.Error()
	if strings.Contains(msg, "certificate required") || strings.Contains(msg, "bad certificate") ||
		strings.Contains(msg, "unknown certificate authority") || strings.Contains(msg, "certificate unknown") {
		if ep.CertFile == "" {
			return directory.Invalid("userInfo.certFile", "userInfo.uri %s requires a client certificate: set userInfo.certFile and userInfo.keyFile (%v)", redact(u), err)
		}
		return directory.Invalid("userInfo.certFile", "userInfo.uri %s refused the client certificate in userInfo.certFile (%v)", redact(u), err)
	}
	return directory.Invalid("userInfo.uri", "userInfo.uri %s: TLS handshake failed: %v", redact(u), err)
}
