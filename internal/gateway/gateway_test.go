package gateway

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trinodb/trino-go-client/trino"

	"github.com/gatehouse-authz/gatehouse/internal/session"
)

// The gateway is tested with the real trino-go-client (as users run it) in
// front of fakeTrino; the end-to-end suite repeats the important scenarios
// against a real coordinator and gatehouse. The scenarios are data:
// testdata/scenarios.json.

// fakeDirectory is the directory the scenarios resolve targets in.
type fakeDirectory struct{}

func (fakeDirectory) UserByTrinoName(_ context.Context, name string) (session.User, bool, error) {
	if name == "alice" {
		return session.User{Username: "alice@example.com", TrinoName: "alice"}, true, nil
	}
	return session.User{}, false, nil
}

func (fakeDirectory) UserByUsername(_ context.Context, username string) (session.User, bool, error) {
	if username == "alice@example.com" {
		return session.User{Username: "alice@example.com", TrinoName: "alice"}, true, nil
	}
	return session.User{}, false, nil
}

func (fakeDirectory) UserByIAMUserID(_ context.Context, iam, userID string) (session.User, bool, error) {
	if iam == "okta" && userID == "jdoe@example.com" {
		return session.User{Username: "john.doe@corp.example", TrinoName: "jdoe_t"}, true, nil
	}
	return session.User{}, false, nil
}

// fakeResolver resolves in fakeDirectory, or fails like an unreachable
// gatehouse when down is set.
type fakeResolver struct {
	down  atomic.Bool
	calls atomic.Int64
}

func (f *fakeResolver) Resolve(ctx context.Context, props session.Props) (session.Resolved, error) {
	f.calls.Add(1)
	if f.down.Load() {
		return session.Resolved{}, errors.New("rpc error: code = Unavailable desc = connection refused")
	}
	return session.Resolve(ctx, fakeDirectory{}, props)
}

type harness struct {
	trino    *fakeTrino
	gateway  *httptest.Server
	resolver *fakeResolver
}

func newHarness(t *testing.T, mode session.Mode, trinoURL string, opts ...func(*Config)) *harness {
	t.Helper()
	h := &harness{resolver: &fakeResolver{}}
	if trinoURL == "" {
		h.trino = newFakeTrino(t)
		trinoURL = h.trino.URL
	}
	u, _ := url.Parse(trinoURL)
	cfg := Config{Trino: u, Mode: mode, Resolver: h.resolver}
	for _, o := range opts {
		o(&cfg)
	}
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.gateway = httptest.NewUnstartedServer(g)
	h.gateway.Config.MaxHeaderBytes = MaxHeaderBytes
	h.gateway.Start()
	t.Cleanup(h.gateway.Close)
	return h
}

var clientSeq atomic.Int64

// basicAuth authenticates every request as user, as the e2e suite does.
type basicAuth struct{ user string }

func (b basicAuth) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.SetBasicAuth(b.user, "")
	return http.DefaultTransport.RoundTrip(r)
}

// open returns a trino-go-client handle on the gateway, authenticating as user.
func (h *harness) open(t *testing.T, user, sessionProps string) *sql.DB {
	t.Helper()
	name := fmt.Sprintf("gw-%d", clientSeq.Add(1))
	if err := trino.RegisterCustomClient(name, &http.Client{Transport: basicAuth{user}}); err != nil {
		t.Fatal(err)
	}
	q := url.Values{"custom_client": {name}}
	if sessionProps != "" {
		q.Set("session_properties", sessionProps)
	}
	dsn := (&url.URL{Scheme: "http", User: url.User(user), Host: strings.TrimPrefix(h.gateway.URL, "http://"), RawQuery: q.Encode()}).String()
	db, err := sql.Open("trino", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(); trino.DeregisterCustomClient(name) })
	return db
}

// rowsOf runs a statement and returns its rows as strings.
func rowsOf(ctx context.Context, c *sql.Conn, query string, args ...any) ([][]string, error) {
	rows, err := c.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = fmt.Sprint(v)
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

func TestScenarios(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "scenarios.json"))
	if err != nil {
		t.Fatal(err)
	}
	var scenarios []struct {
		Name       string `json:"name"`
		Mode       string `json:"mode"`
		Session    string `json:"session"`
		ClientUser string `json:"clientUser"`
		Steps      []struct {
			SQL           string     `json:"sql"`
			Rows          [][]string `json:"rows"`
			Error         string     `json:"error"`
			ErrorName     string     `json:"errorName"`
			NewConnection bool       `json:"newConnection"`
			Comment       string     `json:"comment"`
		} `json:"steps"`
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&scenarios); err != nil {
		t.Fatal(err)
	}
	for _, sc := range scenarios {
		t.Run(sc.Name, func(t *testing.T) {
			h := newHarness(t, session.Mode(sc.Mode), "")
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			db := h.open(t, "svc", sc.Session)
			conn, err := db.Conn(ctx) // pinned: the session lives in the connection
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			var args []any
			if sc.ClientUser != "" {
				args = append(args, sql.Named("X-Trino-User", sc.ClientUser))
			}
			for i, st := range sc.Steps {
				if st.NewConnection {
					if conn, err = db.Conn(ctx); err != nil {
						t.Fatal(err)
					}
					defer conn.Close()
				}
				got, err := rowsOf(ctx, conn, st.SQL, args...)
				if st.Error != "" {
					if err == nil || !strings.Contains(errorText(err), st.Error) {
						t.Fatalf("step %d %q: error %v, want it to contain %q", i, st.SQL, err, st.Error)
					}
					if st.ErrorName != "" && errorName(err) != st.ErrorName {
						t.Fatalf("step %d %q: error name %q, want %q", i, st.SQL, errorName(err), st.ErrorName)
					}
					continue
				}
				if err != nil {
					t.Fatalf("step %d %q: %v", i, st.SQL, err)
				}
				if st.Rows != nil && !rowsMatch(got, st.Rows) {
					t.Fatalf("step %d %q:\n got  %q\n want %q", i, st.SQL, got, st.Rows)
				}
			}
		})
	}
}

// errorName is the Trino error name of a failed query ("" if none).
func errorName(err error) string {
	var te *trino.ErrTrino
	if errors.As(err, &te) {
		return te.ErrorName
	}
	return ""
}

// errorText is a failed query's error as the client shows it, unquoted.
func errorText(err error) string {
	var te *trino.ErrTrino
	if errors.As(err, &te) {
		return te.Error()
	}
	return err.Error()
}

// rowsMatch compares rows; "*" in want matches any non-empty value.
func rowsMatch(got, want [][]string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if len(got[i]) != len(want[i]) {
			return false
		}
		for j := range got[i] {
			if want[i][j] == "*" && got[i][j] != "" {
				continue
			}
			if got[i][j] != want[i][j] {
				return false
			}
		}
	}
	return true
}

// What reaches Trino: no gatehouse property, no show marker, and every URI
// handed to the client points at the gateway.
func TestForwardedRequests(t *testing.T) {
	h := newHarness(t, session.ModeSession, "")
	ctx := t.Context()
	conn, err := h.open(t, "svc", "").Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SET SESSION gatehouse.impersonate_user = 'alice'"); err != nil {
		t.Fatal(err)
	}
	if _, err := rowsOf(ctx, conn, "SHOW SESSION"); err != nil {
		t.Fatal(err)
	}
	if _, err := rowsOf(ctx, conn, "SELECT rows 25000"); err != nil {
		t.Fatal(err)
	}
	h.trino.mu.Lock()
	defer h.trino.mu.Unlock()
	if len(h.trino.requests) < 6 {
		t.Fatalf("Trino saw %d requests", len(h.trino.requests))
	}
	for i, r := range h.trino.requests {
		if s := r.Header.Values("X-Trino-Session"); session.HasOurs(s) {
			t.Errorf("request %d %s %s carried %q", i, r.Method, r.URL, s)
		}
		if strings.Contains(r.URL.RawQuery, showParam) {
			t.Errorf("request %d %s carried the show marker", i, r.URL)
		}
		if r.Header.Get("X-Forwarded-For") != "" {
			t.Errorf("request %d carried X-Forwarded-For (Trino rejects it unless configured to accept it)", i)
		}
		if strings.HasPrefix(r.URL.Path, "/v1/statement") && r.Header.Get("Authorization") == "" {
			t.Errorf("request %d %s lost the client's Authorization", i, r.URL)
		}
	}
	// SHOW SESSION runs as the connecting user; the query as the target.
	for i, r := range h.trino.requests {
		if r.Method != http.MethodPost {
			continue
		}
		want := "alice"
		if strings.HasPrefix(h.trino.bodies[i], "SHOW SESSION") {
			want = "svc"
		}
		if got := r.Header.Get("X-Trino-User"); got != want {
			t.Errorf("%q ran as %q, want %q", h.trino.bodies[i], got, want)
		}
	}
}

// The pages' URIs, as a raw client sees them.
func TestURIsPointAtTheGateway(t *testing.T) {
	h := newHarness(t, session.ModeSession, "")
	resp, err := http.Post(h.gateway.URL+"/v1/statement", "text/plain", strings.NewReader("SELECT rows 3"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var page struct{ NextURI, InfoURI string }
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{page.NextURI, page.InfoURI} {
		if !strings.HasPrefix(u, h.gateway.URL+"/") {
			t.Errorf("URI %q does not point at the gateway %s", u, h.gateway.URL)
		}
	}
	// An external URL, when configured, is what URIs use.
	ext, _ := url.Parse("https://trino.example.com")
	h2 := newHarness(t, session.ModeSession, "", func(c *Config) { c.External = ext })
	resp2, err := http.Post(h2.gateway.URL+"/v1/statement", "text/plain", strings.NewReader("SELECT rows 3"))
	if err != nil {
		t.Fatal(err)
	}
	defer resp2.Body.Close()
	_ = json.NewDecoder(resp2.Body).Decode(&page)
	if !strings.HasPrefix(page.NextURI, "https://trino.example.com/v1/statement/queued/") {
		t.Errorf("nextUri %q, want it under the external URL", page.NextURI)
	}
	// Redirects too.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	r3, err := noFollow.Get(h.gateway.URL + "/ui")
	if err != nil {
		t.Fatal(err)
	}
	r3.Body.Close()
	if loc := r3.Header.Get("Location"); loc != h.gateway.URL+"/ui/" {
		t.Errorf("Location %q, want the gateway's", loc)
	}
}

// A result many pages long arrives whole and in order.
func TestLargeResult(t *testing.T) {
	h := newHarness(t, session.ModeSession, "")
	ctx := t.Context()
	conn, err := h.open(t, "svc", "").Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const n = 120_000
	rows, err := conn.QueryContext(ctx, fmt.Sprintf("SELECT rows %d", n))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	i := 0
	for rows.Next() {
		var k int64
		var s string
		if err := rows.Scan(&k, &s); err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("row %d \"quoted\" ]bracket[ \\ %d", i, i); k != int64(i) || s != want {
			t.Fatalf("row %d = (%d, %q)", i, k, s)
		}
		i++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if i != n {
		t.Fatalf("%d rows, want %d", i, n)
	}
}

// Trino down: a clear query error, at once (no retry loop in the client).
func TestTrinoUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String()
	l.Close()
	h := newHarness(t, session.ModeSession, dead)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	conn, err := h.open(t, "svc", "").Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	_, err = rowsOf(ctx, conn, "SELECT 1")
	if err == nil || !strings.Contains(err.Error(), "GATEWAY_UPSTREAM_UNAVAILABLE") && !strings.Contains(err.Error(), "Trino did not answer (connection refused)") {
		t.Fatalf("error %v, want Trino unreachable", err)
	}
	if !strings.Contains(err.Error(), "Trino did not answer (connection refused)") || strings.Contains(err.Error(), l.Addr().String()) {
		t.Errorf("error %q: want the cause without internal addresses", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("took %s", time.Since(start))
	}
	// The gateway's own statements still work: they need no Trino.
	if _, err := conn.ExecContext(ctx, "SET SESSION gatehouse.impersonate_user = 'alice'"); err != nil {
		t.Errorf("SET with Trino down: %v", err)
	}
	// Other APIs get a plain 502 with the same message.
	resp, err := http.Get(h.gateway.URL + "/v1/info")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(string(body), "Trino did not answer") {
		t.Errorf("/v1/info: %d %s", resp.StatusCode, body)
	}
}

// gatehouse down: queries of an impersonating session fail clearly; others
// never ask it.
func TestResolverUnavailable(t *testing.T) {
	h := newHarness(t, session.ModeSession, "")
	ctx := t.Context()
	conn, err := h.open(t, "svc", "").Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := rowsOf(ctx, conn, "SELECT whoami"); err != nil {
		t.Fatal(err)
	}
	if n := h.resolver.calls.Load(); n != 0 {
		t.Errorf("a session without impersonation asked the resolver %d times", n)
	}
	h.resolver.down.Store(true)
	if _, err := conn.ExecContext(ctx, "SET SESSION gatehouse.impersonate_user = 'alice'"); err != nil {
		t.Fatal(err)
	}
	_, err = rowsOf(ctx, conn, "SELECT whoami")
	if err == nil || !strings.Contains(err.Error(), "gatehouse does not answer") {
		t.Fatalf("error %v, want gatehouse unreachable", err)
	}
}

// Bounds: a statement over the body limit, headers over the header limit.
func TestLimits(t *testing.T) {
	h := newHarness(t, session.ModeSession, "", func(c *Config) { c.MaxBodyBytes = 100 << 10 })
	ctx := t.Context()
	conn, err := h.open(t, "svc", "").Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	big := "SELECT '" + strings.Repeat("x", 200<<10) + "'"
	_, err = rowsOf(ctx, conn, big)
	if errorName(err) != "QUERY_TEXT_TOO_LARGE" || !strings.Contains(err.Error(), "larger than the gateway's limit of 102400 bytes") {
		t.Errorf("a 200 KB statement: %v, want QUERY_TEXT_TOO_LARGE", err)
	}
	_, err = rowsOf(ctx, conn, "/*"+strings.Repeat(" ", 200<<10)+"*/ SET SESSION gatehouse.impersonate_user = 'x'")
	if errorName(err) != "QUERY_TEXT_TOO_LARGE" {
		t.Errorf("a 200 KB session statement: %v, want QUERY_TEXT_TOO_LARGE", err)
	}
	// Under the limit but over the peek window: streamed to Trino.
	mid := "SELECT '" + strings.Repeat("y", 80<<10) + "'"
	if got, err := rowsOf(ctx, conn, mid); err != nil || len(got) != 1 || got[0][0] != mid {
		t.Errorf("an 80 KB statement did not reach Trino intact: %v", err)
	}
	// A gatehouse SET behind a comment longer than the peek window is
	// still recognised (and answered, never sent to Trino).
	long := "/*" + strings.Repeat(" ", 70<<10) + "*/ SET SESSION gatehouse.impersonate_user = 'x'"
	if _, err := conn.ExecContext(ctx, long); err != nil {
		t.Errorf("a SET behind a 70 KB comment: %v", err)
	}
	if got, err := rowsOf(ctx, conn, "SELECT whoami"); err != nil || got[0][0] != "x" {
		t.Errorf("after it, whoami = %q, %v", got, err)
	}

	req, _ := http.NewRequest(http.MethodPost, h.gateway.URL+"/v1/statement", strings.NewReader("SELECT 1"))
	req.Header.Set("X-Trino-Session", strings.Repeat("a", MaxHeaderBytes+64<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("oversized header: %d, want 431", resp.StatusCode)
	}
}

// A synthetic query's follow-up URI is checked as strictly as a statement.
func TestSyntheticURIs(t *testing.T) {
	h := newHarness(t, session.ModeSession, "")
	get := func(path string) int {
		resp, err := http.Get(h.gateway.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	id := newQueryID()
	ok := outcome{UpdateType: "SET SESSION", Set: [][2]string{{session.ImpersonateUser, "alice"}}}.encode()
	if code := get(syntheticPath + id + "/" + ok); code != http.StatusOK {
		t.Errorf("a genuine outcome: %d", code)
	}
	for name, path := range map[string]string{
		"garbage":             syntheticPath + id + "/!!!",
		"not our query id":    syntheticPath + "20250101_000000_00000_abcde/" + ok,
		"a foreign property":  syntheticPath + id + "/" + outcome{Set: [][2]string{{"query_max_run_time", "1s"}}}.encode(),
		"a bad value":         syntheticPath + id + "/" + outcome{Set: [][2]string{{session.ImpersonateUser, "a\nb"}}}.encode(),
		"an unknown error":    syntheticPath + id + "/" + outcome{ErrName: "X", ErrMsg: "y"}.encode(),
		"an unknown update":   syntheticPath + id + "/" + outcome{UpdateType: "DROP TABLE"}.encode(),
		"an oversized marker": syntheticPath + id + "/" + strings.Repeat("A", maxOutcomeLen+1),
	} {
		if code := get(path); code != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", name, code)
		}
	}
	// Cancelling the gateway's own queries, by URI or by id.
	for _, path := range []string{syntheticPath + id + "/" + ok, "/v1/query/" + id} {
		req, _ := http.NewRequest(http.MethodDelete, h.gateway.URL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Errorf("DELETE %s: %d", path, resp.StatusCode)
		}
	}
	if n := h.trino.count("/v1/query/"); n != 0 {
		t.Errorf("a cancel of the gateway's query reached Trino")
	}
}

// Cancels of Trino's queries pass through, by page URI and by query id, the
// latter as the session's user (Trino lets a user kill their own queries).
func TestCancelPassesThrough(t *testing.T) {
	h := newHarness(t, session.ModeSession, "")
	for _, c := range []struct{ path, session string }{
		{"/v1/statement/executing/q1/slug/3", "gatehouse.impersonate_user=alice"},
		{"/v1/query/q1", "gatehouse.impersonate_user=alice"},
	} {
		req, _ := http.NewRequest(http.MethodDelete, h.gateway.URL+c.path, nil)
		req.Header.Set("X-Trino-Session", c.session)
		req.Header.Set("X-Trino-User", "svc")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got, _ := h.trino.last(c.path)
		if resp.StatusCode != http.StatusNoContent || got == nil || got.Method != http.MethodDelete {
			t.Fatalf("DELETE %s: %d, Trino saw %v", c.path, resp.StatusCode, got)
		}
		if got.Header.Get("X-Trino-Session") != "" {
			t.Errorf("DELETE %s forwarded gatehouse's session", c.path)
		}
	}
	got, _ := h.trino.last("/v1/query/")
	if got.Header.Get("X-Trino-User") != "alice" || got.Header.Get("X-Trino-Original-User") != "svc" {
		t.Errorf("cancel by id went as %q (original %q), want alice (svc)", got.Header.Get("X-Trino-User"), got.Header.Get("X-Trino-Original-User"))
	}
}

func TestNewChecksConfig(t *testing.T) {
	good, _ := url.Parse("http://trino:8080")
	for name, cfg := range map[string]Config{
		"no trino":        {Resolver: &fakeResolver{}},
		"trino with path": {Trino: &url.URL{Scheme: "http", Host: "t", Path: "/x"}, Resolver: &fakeResolver{}},
		"trino not http":  {Trino: &url.URL{Scheme: "ftp", Host: "t"}, Resolver: &fakeResolver{}},
		"no resolver":     {Trino: good},
		"bad mode":        {Trino: good, Resolver: &fakeResolver{}, Mode: "single"},
		"bad external":    {Trino: good, Resolver: &fakeResolver{}, External: &url.URL{Scheme: "http", Host: "g", Path: "/p"}},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
