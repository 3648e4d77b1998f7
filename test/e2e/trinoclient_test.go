package e2e

import (
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/trinodb/trino-go-client/trino"

	"github.com/gatehouse-authz/gatehouse/test/e2e/trinotest"
)

// The client helpers live here rather than in trinotest so that trinotest needs only the
// standard library: anything that wants a coordinator (benchmarks, other clients) can
// import it without pulling in trino-go-client.

var clientSeq atomic.Int64

// openDB returns a database/sql handle (trino-go-client) on coord that authenticates every
// request as authUser with HTTP Basic auth and no password. On plain HTTP without an
// authenticator Trino takes the Basic user name as the authenticated user, so a statement
// run with sql.Named("X-Trino-User", "alice") has alice as its session user and makes
// Trino check ImpersonateUser(authUser → alice) — the impersonation path gatehouse decides
// (trino-opa-protocol.md §4). Statements without that argument run as authUser. The handle
// is closed by t.Cleanup.
func openDB(t testing.TB, coord *trinotest.Coordinator, authUser string) *sql.DB {
	t.Helper()
	return openDBWith(t, coord, authUser, basicAuth{user: authUser, next: http.DefaultTransport})
}

// openDBAsSessionUser is openDB for a client configured, once, to run everything as
// sessionUser, as JDBC's sessionUser property or the CLI's --session-user do: every request
// authenticates as authUser and carries X-Trino-User: sessionUser. The Go client has no such
// setting, so the transport sets the header. Opening the handle and pinning a connection
// send nothing to Trino: whether authUser may impersonate sessionUser is decided by each
// query (trino-opa-protocol.md §4).
func openDBAsSessionUser(t testing.TB, coord *trinotest.Coordinator, authUser, sessionUser string) *sql.DB {
	t.Helper()
	return openDBWith(t, coord, authUser, sessionUserHeader{user: sessionUser, next: basicAuth{user: authUser, next: http.DefaultTransport}})
}

func openDBWith(t testing.TB, coord *trinotest.Coordinator, authUser string, transport http.RoundTripper) *sql.DB {
	t.Helper()
	name := fmt.Sprintf("e2e-%d", clientSeq.Add(1))
	client := &http.Client{Transport: transport}
	if err := trino.RegisterCustomClient(name, client); err != nil {
		t.Fatalf("registering HTTP client: %v", err)
	}
	dsn := (&url.URL{
		Scheme:   "http",
		User:     url.User(authUser),
		Host:     strings.TrimPrefix(coord.URL, "http://"),
		RawQuery: url.Values{"custom_client": {name}, "source": {"gatehouse-e2e"}}.Encode(),
	}).String()
	db, err := sql.Open("trino", dsn)
	if err != nil {
		trino.DeregisterCustomClient(name)
		t.Fatalf("opening %s: %v", dsn, err)
	}
	t.Cleanup(func() {
		db.Close()
		trino.DeregisterCustomClient(name)
	})
	return db
}

// basicAuth adds "Authorization: Basic base64(user:)" to every request.
type basicAuth struct {
	user string
	next http.RoundTripper
}

func (b basicAuth) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.SetBasicAuth(b.user, "")
	return b.next.RoundTrip(req)
}

// sessionUserHeader sets X-Trino-User on every request.
type sessionUserHeader struct {
	user string
	next http.RoundTripper
}

func (s sessionUserHeader) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Header.Set("X-Trino-User", s.user)
	return s.next.RoundTrip(req)
}
