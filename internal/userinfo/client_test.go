package userinfo_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehouse-authz/gatehouse/internal/directory"
	"github.com/gatehouse-authz/gatehouse/internal/userinfo"
)

// The client against real HTTP and HTTPS servers on loopback: what it sends,
// what it accepts, and how each way of failing reads.

const answer = `{"groups": [{"name": "Accountants"}, {"name": "Controllers"}],
	"authorizations": {"EMEA": ["Sales", "Expenses"], "APAC": ["Sales"]}}`

// endpoint counts requests and answers with handler.
type endpoint struct {
	*httptest.Server
	requests atomic.Int32
}

func serve(t *testing.T, tlsCfg *tls.Config, handler http.HandlerFunc) *endpoint {
	t.Helper()
	e := &endpoint{}
	e.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.requests.Add(1)
		handler(w, r)
	}))
	if tlsCfg != nil {
		e.TLS = tlsCfg
		e.StartTLS()
	} else {
		e.Start()
	}
	t.Cleanup(e.Close)
	return e
}

// answering is a handler that answers body to ?userid=alice only.
func answering(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("userid") != "alice" {
			http.Error(w, "unknown user", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	}
}

func fetch(t *testing.T, c *userinfo.Client, ep directory.UserInfoEndpoint) (userinfo.Info, error) {
	t.Helper()
	return c.Fetch(t.Context(), "corp", ep, "alice")
}

// wantFetchError checks err is a FetchError of reason whose message has msg
// and never the password.
func wantFetchError(t *testing.T, err error, reason, msg string) {
	t.Helper()
	var fe *userinfo.FetchError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T), want a FetchError", err, err)
	}
	if fe.Reason != reason || !strings.Contains(fe.Msg, msg) {
		t.Errorf("error %q (reason %s), want reason %s and %q", fe.Msg, fe.Reason, reason, msg)
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error %q shows the password", err)
	}
}

var wantInfo = userinfo.Info{
	Groups:         []string{"Accountants", "Controllers"},
	Authorizations: directory.Attributes{"APAC": {"Sales"}, "EMEA": {"Expenses", "Sales"}},
}

func equalInfo(t *testing.T, got userinfo.Info, want userinfo.Info) {
	t.Helper()
	if strings.Join(got.Groups, ",") != strings.Join(want.Groups, ",") || len(got.Authorizations) != len(want.Authorizations) {
		t.Fatalf("info = %+v, want %+v", got, want)
	}
	for k, v := range want.Authorizations {
		if strings.Join(got.Authorizations[k], ",") != strings.Join(v, ",") {
			t.Fatalf("info = %+v, want %+v", got, want)
		}
	}
}

func TestFetchSendsTheUserIDAndReadsTheAnswer(t *testing.T) {
	var query string
	e := serve(t, nil, func(w http.ResponseWriter, r *http.Request) {
		query = r.URL.RawQuery
		answering(answer)(w, r)
	})
	// A query the URI already has is kept.
	info, err := fetch(t, userinfo.NewClient(), directory.UserInfoEndpoint{URI: e.URL + "/user-info?tenant=7"})
	if err != nil {
		t.Fatal(err)
	}
	equalInfo(t, info, wantInfo)
	if query != "tenant=7&userid=alice" {
		t.Errorf("query %q", query)
	}
}

func TestBasicAuthRequiredAndChecked(t *testing.T) {
	e := serve(t, nil, func(w http.ResponseWriter, r *http.Request) {
		user, pw, ok := r.BasicAuth()
		if !ok || user != "svc" || pw != "s3cret" {
			w.Header().Set("WWW-Authenticate", `Basic realm="userinfo"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		answering(answer)(w, r)
	})
	c := userinfo.NewClient()
	cases := []struct {
		name     string
		user, pw string
		ok       bool
	}{
		{"no credentials", "", "", false},
		{"wrong password", "svc", "guess", false},
		{"wrong user", "root", "s3cret", false},
		{"right credentials", "svc", "s3cret", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			info, err := fetch(t, c, directory.UserInfoEndpoint{URI: e.URL, Username: tc.user, Password: tc.pw})
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				equalInfo(t, info, wantInfo)
				return
			}
			wantFetchError(t, err, "status", "HTTP 401 Unauthorized")
		})
	}
	// 4xx is final: no retries.
	if n := e.requests.Load(); n != int32(len(cases)) {
		t.Errorf("%d requests for %d fetches", n, len(cases))
	}
}

func TestHTTPSWithCAFile(t *testing.T) {
	ours := newCA(t, "userinfo-ca")
	other := newCA(t, "other-ca")
	srv := ours.issue(t, "userinfo-server", true)
	e := serve(t, &tls.Config{Certificates: []tls.Certificate{srv.tls}}, answering(answer))
	c := userinfo.NewClient(userinfo.WithRetries(0, 0))

	info, err := fetch(t, c, directory.UserInfoEndpoint{URI: e.URL, CAFile: ours.pemFile})
	if err != nil {
		t.Fatalf("with the CA that signed the server: %v", err)
	}
	equalInfo(t, info, wantInfo)

	_, err = fetch(t, c, directory.UserInfoEndpoint{URI: e.URL})
	wantFetchError(t, err, "tls", "certificate")
	_, err = fetch(t, c, directory.UserInfoEndpoint{URI: e.URL, CAFile: other.pemFile})
	wantFetchError(t, err, "tls", "certificate")
	// https with http's port: the TLS client meets a plain HTTP server.
	plain := serve(t, nil, answering(answer))
	_, err = fetch(t, c, directory.UserInfoEndpoint{URI: strings.Replace(plain.URL, "http:", "https:", 1), CAFile: ours.pemFile})
	if err == nil {
		t.Error("https to a plain HTTP server succeeded")
	}
}

func TestMutualTLSRequiredAndChecked(t *testing.T) {
	serverCA := newCA(t, "server-ca")
	clientCA := newCA(t, "client-ca")
	rogueCA := newCA(t, "rogue-ca")
	srv := serverCA.issue(t, "userinfo-server", true)
	good := clientCA.issue(t, "gatehouse", false)
	rogue := rogueCA.issue(t, "gatehouse", false)

	var peer atomic.Value
	e := serve(t, &tls.Config{
		Certificates: []tls.Certificate{srv.tls},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    clientCA.pool(),
	}, func(w http.ResponseWriter, r *http.Request) {
		peer.Store(r.TLS.PeerCertificates[0].Subject.CommonName)
		answering(answer)(w, r)
	})
	c := userinfo.NewClient(userinfo.WithRetries(0, 0))
	ep := directory.UserInfoEndpoint{URI: e.URL, CAFile: serverCA.pemFile}

	_, err := fetch(t, c, ep)
	wantFetchError(t, err, "tls", "certificate")

	withRogue := ep
	withRogue.CertFile, withRogue.KeyFile = rogue.certFile, rogue.keyFile
	_, err = fetch(t, c, withRogue)
	wantFetchError(t, err, "tls", "certificate")

	withGood := ep
	withGood.CertFile, withGood.KeyFile = good.certFile, good.keyFile
	info, err := fetch(t, c, withGood)
	if err != nil {
		t.Fatalf("with the client certificate the server trusts: %v", err)
	}
	equalInfo(t, info, wantInfo)
	if peer.Load() != "gatehouse" {
		t.Errorf("server saw client %v", peer.Load())
	}

	// The check before saving an IAM tells the two apart too.
	if err := c.Check(t.Context(), ep); !isInvalid(err, "userInfo.certFile") {
		t.Errorf("Check without a client certificate: %v", err)
	}
	if err := c.Check(t.Context(), withRogue); !isInvalid(err, "userInfo.certFile") {
		t.Errorf("Check with a certificate the server does not trust: %v", err)
	}
	if err := c.Check(t.Context(), withGood); err != nil {
		t.Errorf("Check with the right certificate: %v", err)
	}
}

func TestNon200(t *testing.T) {
	cases := []struct {
		status  int
		retried bool
		msg     string
	}{
		{http.StatusNotFound, false, "HTTP 404 Not Found"},
		{http.StatusForbidden, false, "HTTP 403 Forbidden"},
		{http.StatusFound, false, "HTTP 302 Found"}, // redirects are not followed
		{http.StatusNoContent, false, "HTTP 204 No Content"},
		{http.StatusInternalServerError, true, "HTTP 500 Internal Server Error (after 3 attempts)"},
		{http.StatusServiceUnavailable, true, "HTTP 503 Service Unavailable (after 3 attempts)"},
		{http.StatusTooManyRequests, true, "HTTP 429 Too Many Requests (after 3 attempts)"},
	}
	for _, tc := range cases {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			t.Parallel()
			followed := false
			var e *endpoint
			e = serve(t, nil, func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/elsewhere" {
					followed = true
				}
				if tc.status == http.StatusFound {
					http.Redirect(w, r, e.URL+"/elsewhere", tc.status)
					return
				}
				w.WriteHeader(tc.status)
			})
			c := userinfo.NewClient(userinfo.WithRetries(2, time.Millisecond))
			_, err := fetch(t, c, directory.UserInfoEndpoint{URI: e.URL + "/u", Username: "svc", Password: "s3cret"})
			wantFetchError(t, err, "status", tc.msg)
			want := int32(1)
			if tc.retried {
				want = 3
			}
			if n := e.requests.Load(); n != want || followed {
				t.Errorf("%d requests (redirect followed: %v), want %d", n, followed, want)
			}
		})
	}
}

func TestRetryThenSuccess(t *testing.T) {
	var calls atomic.Int32
	e := serve(t, nil, func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) < 3 {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		answering(answer)(w, r)
	})
	info, err := fetch(t, userinfo.NewClient(userinfo.WithRetries(2, time.Millisecond)), directory.UserInfoEndpoint{URI: e.URL})
	if err != nil {
		t.Fatal(err)
	}
	equalInfo(t, info, wantInfo)
}

func TestMalformedJSON(t *testing.T) {
	bodies := []string{
		``,
		`not json`,
		`{"groups": [{"name": "a"}]`,
		`[]`,
		`"groups"`,
		`null`,
		`{}`,
		`{"other": 1}`,
		`{"groups": "Accountants"}`,
		`{"groups": [{"name": 1}]}`,
		`{"groups": ["Accountants"]}`,
		`{"authorizations": []}`,
		`{"authorizations": {"EMEA": "Sales"}}`,
		`{"authorizations": {"EMEA": [1, 2]}}`,
		`{"groups": []} trailing`,
		strings.Repeat("[", 20000) + strings.Repeat("]", 20000),
		`{"groups": [` + strings.Repeat(`{"name": "g"},`, userinfo.MaxItems) + `{"name": "g"}]}`,
	}
	for i, body := range bodies {
		e := serve(t, nil, func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(body)) })
		_, err := fetch(t, userinfo.NewClient(userinfo.WithRetries(2, time.Millisecond)), directory.UserInfoEndpoint{URI: e.URL})
		wantFetchError(t, err, "malformed", "malformed answer")
		if n := e.requests.Load(); n != 1 {
			t.Errorf("body %d: %d requests; a malformed answer is not retried", i, n)
		}
	}
	// Too large to read whole.
	e := serve(t, nil, func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"groups": [], "pad": "` + strings.Repeat("x", userinfo.MaxBodyBytes) + `"}`))
	})
	_, err := fetch(t, userinfo.NewClient(), directory.UserInfoEndpoint{URI: e.URL})
	wantFetchError(t, err, "malformed", "larger than")
}

func TestSlowEndpointHitsTheTimeout(t *testing.T) {
	release := make(chan struct{})
	e := serve(t, nil, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	reg := prometheus.NewRegistry()
	c := userinfo.NewClient(userinfo.WithTimeout(100*time.Millisecond), userinfo.WithRetries(1, time.Millisecond),
		userinfo.WithMetrics(userinfo.NewMetrics(reg)))
	_, err := fetch(t, c, directory.UserInfoEndpoint{URI: e.URL})
	wantFetchError(t, err, "timeout", "no answer within the timeout (after 2 attempts)")
	if n := e.requests.Load(); n != 2 {
		t.Errorf("%d requests, want 2 (one retry)", n)
	}
	if got := counter(t, reg, "gatehouse_userinfo_requests_total", map[string]string{"iam": "corp", "result": "timeout"}); got != 2 {
		t.Errorf("timeouts counted %v, want 2", got)
	}

	// The caller's own deadline ends the retries too.
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	slow := userinfo.NewClient(userinfo.WithTimeout(10*time.Second), userinfo.WithRetries(5, time.Second))
	start := time.Now()
	if _, err := slow.Fetch(ctx, "corp", directory.UserInfoEndpoint{URI: e.URL}, "alice"); err == nil {
		t.Fatal("fetch past the caller's deadline succeeded")
	}
	if time.Since(start) > 5*time.Second {
		t.Error("retries went on past the caller's deadline")
	}
}

func TestConnectionRefused(t *testing.T) {
	e := serve(t, nil, answering(answer))
	url := e.URL
	e.Close()
	_, err := fetch(t, userinfo.NewClient(userinfo.WithRetries(1, time.Millisecond)), directory.UserInfoEndpoint{URI: url})
	wantFetchError(t, err, "connect", "(after 2 attempts)")
}

func TestPEMFilesGoneAfterSaving(t *testing.T) {
	_, err := fetch(t, userinfo.NewClient(), directory.UserInfoEndpoint{URI: "https://127.0.0.1:1", CAFile: "/nonexistent/ca.pem"})
	wantFetchError(t, err, "config", "userInfo.caFile /nonexistent/ca.pem cannot be read")
}

func TestRotatedCertificatesAreReread(t *testing.T) {
	first, second := newCA(t, "first"), newCA(t, "second")
	e1 := serve(t, &tls.Config{Certificates: []tls.Certificate{first.issue(t, "s1", true).tls}}, answering(answer))
	e2 := serve(t, &tls.Config{Certificates: []tls.Certificate{second.issue(t, "s2", true).tls}}, answering(answer))
	caFile := writeFile(t, "ca.pem", "")
	c := userinfo.NewClient(userinfo.WithRetries(0, 0))
	copyFile(t, first.pemFile, caFile)
	if _, err := fetch(t, c, directory.UserInfoEndpoint{URI: e1.URL, CAFile: caFile}); err != nil {
		t.Fatal(err)
	}
	// The CA file is replaced in place (a bigger bundle, so the size
	// changes even where modification times are coarse).
	copyFile(t, second.pemFile, caFile)
	appendFile(t, first.pemFile, caFile)
	if _, err := fetch(t, c, directory.UserInfoEndpoint{URI: e2.URL, CAFile: caFile}); err != nil {
		t.Fatalf("after rotating the CA file: %v", err)
	}
}

func isInvalid(err error, field string) bool {
	var de *directory.Error
	return errors.As(err, &de) && errors.Is(err, directory.ErrInvalid) && de.Field == field
}

func TestCheck(t *testing.T) {
	ours := newCA(t, "ours")
	srv := ours.issue(t, "server", true)
	client := ours.issue(t, "client", false)
	other := newCA(t, "other").issue(t, "other", false)
	tlsSrv := serve(t, &tls.Config{Certificates: []tls.Certificate{srv.tls}}, answering(answer))
	plain := serve(t, nil, answering(answer))
	dead := serve(t, nil, answering(answer))
	deadURL := dead.URL
	dead.Close()
	notPEM := writeFile(t, "not.pem", "hello")

	cases := []struct {
		name  string
		ep    directory.UserInfoEndpoint
		field string // "" means accepted
		msg   string
	}{
		{"plain http", directory.UserInfoEndpoint{URI: plain.URL + "/u"}, "", ""},
		{"https with its CA", directory.UserInfoEndpoint{URI: tlsSrv.URL, CAFile: ours.pemFile}, "", ""},
		{"https with a client certificate", directory.UserInfoEndpoint{URI: tlsSrv.URL, CAFile: ours.pemFile, CertFile: client.certFile, KeyFile: client.keyFile}, "", ""},
		{"malformed", directory.UserInfoEndpoint{URI: "http//nohost"}, "userInfo.uri", "must start with http:// or https://"},
		{"no host", directory.UserInfoEndpoint{URI: "https:///path"}, "userInfo.uri", "has no host"},
		{"unreachable", directory.UserInfoEndpoint{URI: deadURL}, "userInfo.uri", "is unreachable"},
		{"unknown host", directory.UserInfoEndpoint{URI: "http://no-such-host.invalid/u"}, "userInfo.uri", "is unreachable"},
		{"untrusted certificate", directory.UserInfoEndpoint{URI: tlsSrv.URL}, "userInfo.uri", "set userInfo.caFile"},
		{"wrong CA", directory.UserInfoEndpoint{URI: tlsSrv.URL, CAFile: newCA(t, "x").pemFile}, "userInfo.caFile", "does not trust"},
		{"unreadable CA", directory.UserInfoEndpoint{URI: tlsSrv.URL, CAFile: "/nonexistent/ca.pem"}, "userInfo.caFile", "cannot be read"},
		{"CA without PEM", directory.UserInfoEndpoint{URI: tlsSrv.URL, CAFile: notPEM}, "userInfo.caFile", "holds no PEM certificate"},
		{"unreadable cert", directory.UserInfoEndpoint{URI: tlsSrv.URL, CertFile: "/nonexistent/c.pem", KeyFile: client.keyFile}, "userInfo.certFile", "cannot be read"},
		{"unreadable key", directory.UserInfoEndpoint{URI: tlsSrv.URL, CertFile: client.certFile, KeyFile: "/nonexistent/k.pem"}, "userInfo.keyFile", "cannot be read"},
		{"cert without PEM", directory.UserInfoEndpoint{URI: tlsSrv.URL, CertFile: notPEM, KeyFile: client.keyFile}, "userInfo.certFile", "holds no PEM certificate"},
		{"key is a certificate", directory.UserInfoEndpoint{URI: tlsSrv.URL, CertFile: client.certFile, KeyFile: client.certFile}, "userInfo.keyFile", "holds no PEM private key"},
		{"key of another certificate", directory.UserInfoEndpoint{URI: tlsSrv.URL, CertFile: client.certFile, KeyFile: other.keyFile}, "userInfo.keyFile", "does not fit"},
		{"cert without key", directory.UserInfoEndpoint{URI: tlsSrv.URL, CertFile: client.certFile}, "userInfo.keyFile", "needs its key"},
		{"TLS files on http", directory.UserInfoEndpoint{URI: plain.URL, CAFile: ours.pemFile}, "userInfo.caFile", "need an https endpoint"},
	}
	c := userinfo.NewClient(userinfo.WithTimeout(2 * time.Second))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := c.Check(t.Context(), tc.ep)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			if !isInvalid(err, tc.field) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("error %v, want ErrInvalid on %s saying %q", err, tc.field, tc.msg)
			}
		})
	}
	// Checking sends no HTTP request.
	if n := plain.requests.Load() + tlsSrv.requests.Load(); n != 0 {
		t.Errorf("Check sent %d requests", n)
	}
}
