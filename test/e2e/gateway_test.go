package e2e

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/trinodb/trino-go-client/trino"

	"github.com/gatehouse-authz/gatehouse/test/e2e/trinotest"
)

// The scenarios of issue 5: session impersonation through `gatehouse gateway` in front
// of the shared coordinator, with trino-go-client on a pinned connection (the client
// keeps the session's properties per connection, as Trino's clients do). Each test runs
// its own gateway process — the binary built for the suite, resolving targets through
// the shared gatehouse's gRPC port — so that it can choose the impersonation mode.

// gatewayProc is a running `gatehouse gateway`.
type gatewayProc struct {
	url     string // http://127.0.0.1:port, what clients connect to
	logFile string
	cmd     *exec.Cmd
	done    chan struct{}
}

// startGateway runs a gateway in front of trinoURL in the given impersonation mode and
// stops it when the test ends.
func startGateway(t *testing.T, s *suite, trinoURL, mode string) *gatewayProc {
	t.Helper()
	addr, err := freeAddr()
	if err != nil {
		t.Fatal(err)
	}
	g := &gatewayProc{url: "http://" + addr, logFile: filepath.Join(t.TempDir(), "gateway.log"), done: make(chan struct{})}
	logf, err := os.Create(g.logFile)
	if err != nil {
		t.Fatal(err)
	}
	g.cmd = exec.Command(s.gh.bin, "gateway",
		"--gateway-addr", addr,
		"--trino-url", trinoURL,
		"--gateway-resolver-addr", s.gh.grpcAddr,
		"--impersonation-mode", mode,
		"--log-format", "text",
		"--shutdown-timeout", "5s",
	)
	g.cmd.Stdout, g.cmd.Stderr = logf, logf
	g.cmd.Env = cleanEnv("GATEHOUSE_")
	g.cmd.SysProcAttr = &syscall.SysProcAttr{}
	setParentDeathSignal(g.cmd.SysProcAttr)
	if err := g.cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("starting the gateway: %v", err)
	}
	go func() {
		_ = g.cmd.Wait()
		logf.Close()
		close(g.done)
	}()
	t.Cleanup(func() {
		_ = g.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-g.done:
		case <-time.After(15 * time.Second):
			_ = g.cmd.Process.Kill()
			<-g.done
		}
		if t.Failed() {
			data, _ := os.ReadFile(g.logFile)
			t.Logf("--- gateway log ---\n%s", data)
		}
	})
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-g.done:
			data, _ := os.ReadFile(g.logFile)
			t.Fatalf("the gateway exited during start-up:\n%s", data)
		default:
		}
		// Any answer from the gateway's port will do: /v1/info goes through to Trino, or
		// fails with the gateway's own 502 when Trino is not there.
		if resp, err := client.Get(g.url + "/v1/info"); err == nil {
			resp.Body.Close()
			return g
		}
		if time.Now().After(deadline) {
			t.Fatalf("the gateway did not listen on %s within 30s", addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// open is openDB through the gateway: trino-go-client with Basic auth as authUser.
func (g *gatewayProc) open(t *testing.T, authUser string) *sql.DB {
	t.Helper()
	return openDB(t, &trinotest.Coordinator{URL: g.url}, authUser)
}

// pin takes one connection of db: the session (and the impersonation) lives there.
func pin(t *testing.T, ctx context.Context, db *sql.DB) *sql.Conn {
	t.Helper()
	c, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func exec1(t *testing.T, ctx context.Context, c *sql.Conn, stmt string) {
	t.Helper()
	if _, err := c.ExecContext(ctx, stmt); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
}

func wantUser(t *testing.T, ctx context.Context, c *sql.Conn, step, want string) {
	t.Helper()
	got, err := currentUser(ctx, c)
	if err != nil {
		t.Fatalf("%s: SELECT current_user: %v", step, err)
	}
	if got != want {
		t.Fatalf("%s: current_user = %q, want %q", step, got, want)
	}
}

// trinoErr is the Trino error behind a failed statement, if any.
func trinoErr(err error) *trino.ErrTrino {
	var te *trino.ErrTrino
	if errors.As(err, &te) {
		return te
	}
	return nil
}

// wantQueryError fails the test unless err is a Trino query error of type errorType
// whose message contains every fragment.
func wantQueryError(t *testing.T, what string, err error, errorType string, fragments ...string) {
	t.Helper()
	te := trinoErr(err)
	if te == nil {
		t.Errorf("%s: %v, want a Trino %s", what, err, errorType)
		return
	}
	if te.ErrorType != errorType {
		t.Errorf("%s: %s %s: %s, want type %s", what, te.ErrorType, te.ErrorName, te.Message, errorType)
	}
	for _, f := range fragments {
		if !strings.Contains(te.Message, f) {
			t.Errorf("%s: message %q does not mention %q", what, te.Message, f)
		}
	}
}

// sessionRows is SHOW SESSION [LIKE ...] as name → value.
func sessionRows(t *testing.T, ctx context.Context, c *sql.Conn, stmt string) map[string]string {
	t.Helper()
	rows, err := queryRows(ctx, c, stmt)
	if err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
	out := map[string]string{}
	for _, r := range rows {
		if len(r) != 5 {
			t.Fatalf("%s: row %q has %d columns, want SHOW SESSION's 5", stmt, r, len(r))
		}
		out[r[0]] = r[1]
	}
	return out
}

// TestGateway01SetShowReset: with IMPERSONATE_USER, SET succeeds, SHOW SESSION shows the
// property (next to Trino's own properties), queries run as the target — with the
// target's row filter — and RESET makes the user themselves again. The target may be
// named by Trino name or by directory username.
func TestGateway01SetShowReset(t *testing.T) {
	s := setup(t)
	ctx := testContext(t, 2*time.Minute)
	n := newNames("g1")
	svc, alice := n.user("svc"), n.user("alice")
	s.gh.createUser(t, svc, userSpec{permissions: []string{"IMPERSONATE_USER"}})
	s.gh.createUser(t, alice, userSpec{attributes: map[string][]string{"region": {"EMEA"}}})
	gw := startGateway(t, s, s.trino.URL, "session")
	c := pin(t, ctx, gw.open(t, svc))

	wantUser(t, ctx, c, "before SET", svc)
	exec1(t, ctx, c, fmt.Sprintf("SET SESSION gatehouse.impersonate_user = '%s'", alice))

	ours := sessionRows(t, ctx, c, "SHOW SESSION LIKE 'gatehouse.%'")
	if ours["gatehouse.impersonate_user"] != alice || len(ours) != 4 {
		t.Errorf("SHOW SESSION LIKE 'gatehouse.%%' = %v, want gatehouse's 4 properties with impersonate_user = %s", ours, alice)
	}
	all := sessionRows(t, ctx, c, "SHOW SESSION")
	if _, ok := all["query_max_run_time"]; !ok || all["gatehouse.impersonate_user"] != alice {
		t.Errorf("SHOW SESSION has %d rows; want Trino's (query_max_run_time) and gatehouse's merged", len(all))
	}
	t.Logf("SHOW SESSION: %d rows, gatehouse's: %v", len(all), ours)

	wantUser(t, ctx, c, "after SET", alice)
	got, err := queryRows(ctx, c, "SELECT region, amount FROM memory.e2e.sales ORDER BY id")
	if want := [][]string{{"EMEA", "100"}, {"EMEA", "200"}}; err != nil || !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("the dashboard under impersonation: %q, %v; want %s's rows %q", got, err, alice, want)
	}

	exec1(t, ctx, c, "RESET SESSION gatehouse.impersonate_user")
	wantUser(t, ctx, c, "after RESET", svc)
	if v := sessionRows(t, ctx, c, "SHOW SESSION LIKE 'gatehouse.impersonate_user'"); v["gatehouse.impersonate_user"] != "" {
		t.Errorf("after RESET, SHOW SESSION shows %q", v["gatehouse.impersonate_user"])
	}

	// By directory username, in any case: queries run as the user's Trino name.
	exec1(t, ctx, c, fmt.Sprintf("set session GATEHOUSE.impersonate_user = '%s'", strings.ToUpper(emailOf(alice))))
	wantUser(t, ctx, c, "impersonating by username", alice)
}

// TestGateway02PermissionCheckedAtQueryTime: without IMPERSONATE_USER, SET succeeds and
// SHOW shows it, and the next query is denied by Trino's ImpersonateUser check; granting
// the permission lets the next query on the same connection run as the target.
func TestGateway02PermissionCheckedAtQueryTime(t *testing.T) {
	s := setup(t)
	ctx := testContext(t, 2*time.Minute)
	n := newNames("g2")
	svc, alice := n.user("svc"), n.user("alice")
	s.gh.createUser(t, svc, userSpec{})
	s.gh.createUser(t, alice, userSpec{})
	gw := startGateway(t, s, s.trino.URL, "session")
	c := pin(t, ctx, gw.open(t, svc))

	exec1(t, ctx, c, fmt.Sprintf("SET SESSION gatehouse.impersonate_user = '%s'", alice))
	if v := sessionRows(t, ctx, c, "SHOW SESSION LIKE 'gatehouse.impersonate%'"); v["gatehouse.impersonate_user"] != alice {
		t.Errorf("SHOW SESSION: %v", v)
	}
	_, err := currentUser(ctx, c)
	wantDenied(t, svc+" as "+alice+" without IMPERSONATE_USER", err, "impersonate", svc, alice)
	t.Logf("the query after SET: %v", err)

	s.gh.grant(t, svc, "IMPERSONATE_USER")
	wantUser(t, ctx, c, "after the grant", alice)
}

// TestGateway03SwitchingFails: in session mode a second SET to another user fails with a
// message saying to RESET first, the first impersonation stays, and after RESET another
// user can be set.
func TestGateway03SwitchingFails(t *testing.T) {
	s := setup(t)
	ctx := testContext(t, 2*time.Minute)
	n := newNames("g3")
	svc, alice, bob := n.user("svc"), n.user("alice"), n.user("bob")
	s.gh.createUser(t, svc, userSpec{permissions: []string{"IMPERSONATE_USER"}})
	s.gh.createUser(t, alice, userSpec{})
	s.gh.createUser(t, bob, userSpec{})
	gw := startGateway(t, s, s.trino.URL, "session")
	c := pin(t, ctx, gw.open(t, svc))

	exec1(t, ctx, c, fmt.Sprintf("SET SESSION gatehouse.impersonate_user = '%s'", alice))
	_, err := c.ExecContext(ctx, fmt.Sprintf("SET SESSION gatehouse.impersonate_user = '%s'", bob))
	wantQueryError(t, "switching to "+bob, err, "USER_ERROR", "already impersonates", alice, "RESET SESSION gatehouse.impersonate_user first")
	wantUser(t, ctx, c, "after the refused switch", alice)

	exec1(t, ctx, c, "RESET SESSION gatehouse.impersonate_user")
	exec1(t, ctx, c, fmt.Sprintf("SET SESSION gatehouse.impersonate_user = '%s'", bob))
	wantUser(t, ctx, c, "after RESET and SET", bob)
}

// TestGateway04StrictMode: with --impersonation-mode strict the impersonation lasts for
// the connection: RESET and switching are refused with a new-connection hint, and a new
// connection starts as the user themselves.
func TestGateway04StrictMode(t *testing.T) {
	s := setup(t)
	ctx := testContext(t, 2*time.Minute)
	n := newNames("g4")
	svc, alice, bob := n.user("svc"), n.user("alice"), n.user("bob")
	s.gh.createUser(t, svc, userSpec{permissions: []string{"IMPERSONATE_USER"}})
	s.gh.createUser(t, alice, userSpec{})
	s.gh.createUser(t, bob, userSpec{})
	gw := startGateway(t, s, s.trino.URL, "strict")
	db := gw.open(t, svc)
	c := pin(t, ctx, db)

	exec1(t, ctx, c, fmt.Sprintf("SET SESSION gatehouse.impersonate_user = '%s'", alice))
	wantUser(t, ctx, c, "after SET", alice)
	_, err := c.ExecContext(ctx, "RESET SESSION gatehouse.impersonate_user")
	wantQueryError(t, "RESET in strict mode", err, "USER_ERROR", "impersonation-mode strict", "open a new connection")
	_, err = c.ExecContext(ctx, fmt.Sprintf("SET SESSION gatehouse.impersonate_user = '%s'", bob))
	wantQueryError(t, "switching in strict mode", err, "USER_ERROR", "cannot switch", "open a new connection")
	wantUser(t, ctx, c, "after the refused RESET and switch", alice)

	wantUser(t, ctx, pin(t, ctx, db), "a new connection", svc)
}

// TestGateway05IdentityProviderForm: gatehouse.impersonation_iamid / _userid /
// _userid_template, set in the order governance platforms document, resolve userid jdoe
// through the template {userid}@example.com to the directory user whose user id in that
// identity provider is jdoe@example.com.
func TestGateway05IdentityProviderForm(t *testing.T) {
	s := setup(t)
	ctx := testContext(t, 2*time.Minute)
	n := newNames("g5")
	svc, jdoe := n.user("svc"), n.user("jdoe")
	iam := "okta_" + strings.ReplaceAll(n.prefix, "_", "")
	s.gh.createUser(t, svc, userSpec{permissions: []string{"IMPERSONATE_USER"}})
	if data, status, err := s.gh.do("POST", "/api/v1/iams", map[string]string{"id": iam, "displayName": "Okta " + n.prefix}); err != nil || status != http.StatusCreated && status != http.StatusConflict {
		t.Fatalf("creating identity provider %s: %d %v %s", iam, status, err, data)
	}
	s.gh.call(t, "POST", "/api/v1/users", map[string]string{"email": emailOf(jdoe), "fullName": "John Doe", "iam": iam, "userId": "jdoe@example.com"}, http.StatusCreated)
	s.gh.call(t, "PUT", "/api/v1/users/"+url.PathEscape(emailOf(jdoe))+"/external-ids/trino", map[string]string{"username": jdoe}, http.StatusOK)
	gw := startGateway(t, s, s.trino.URL, "session")
	c := pin(t, ctx, gw.open(t, svc))

	exec1(t, ctx, c, fmt.Sprintf("SET SESSION gatehouse.impersonation_iamid = '%s'", iam))
	exec1(t, ctx, c, "SET SESSION gatehouse.impersonation_userid = 'jdoe'")
	exec1(t, ctx, c, "SET SESSION gatehouse.impersonation_userid_template = '{userid}@example.com'")
	v := sessionRows(t, ctx, c, "SHOW SESSION LIKE 'gatehouse.impersonation%'")
	if v["gatehouse.impersonation_iamid"] != iam || v["gatehouse.impersonation_userid"] != "jdoe" || v["gatehouse.impersonation_userid_template"] != "{userid}@example.com" {
		t.Errorf("SHOW SESSION: %v", v)
	}
	wantUser(t, ctx, c, "the identity-provider form", jdoe)

	// User ids are case-sensitive: JDoe names nobody, and the query (not the SET) fails.
	c2 := pin(t, ctx, gw.open(t, svc))
	exec1(t, ctx, c2, fmt.Sprintf("SET SESSION gatehouse.impersonation_iamid = '%s'", iam))
	exec1(t, ctx, c2, "SET SESSION gatehouse.impersonation_userid = 'JDoe@example.com'")
	_, err := currentUser(ctx, c2)
	wantQueryError(t, "an unknown user id", err, "USER_ERROR", "Access Denied", "JDoe@example.com", "no such user")
}

// TestGateway06NewConnectionStartsAsItself: an impersonation belongs to its connection;
// another connection of the same client starts as the user, and the first keeps it.
func TestGateway06NewConnectionStartsAsItself(t *testing.T) {
	s := setup(t)
	ctx := testContext(t, 2*time.Minute)
	n := newNames("g6")
	svc, alice := n.user("svc"), n.user("alice")
	s.gh.createUser(t, svc, userSpec{permissions: []string{"IMPERSONATE_USER"}})
	s.gh.createUser(t, alice, userSpec{})
	gw := startGateway(t, s, s.trino.URL, "session")
	db := gw.open(t, svc)
	first := pin(t, ctx, db)
	exec1(t, ctx, first, fmt.Sprintf("SET SESSION gatehouse.impersonate_user = '%s'", alice))
	wantUser(t, ctx, first, "the impersonating connection", alice)
	wantUser(t, ctx, pin(t, ctx, db), "a new connection", svc)
	wantUser(t, ctx, first, "the first connection again", alice)
}

// TestGateway07LargeResult: tpch.sf1.customer (150,000 rows) through the gateway, under
// impersonation, is row for row what Trino returns directly.
func TestGateway07LargeResult(t *testing.T) {
	s := setup(t)
	ctx := testContext(t, 4*time.Minute)
	n := newNames("g7")
	svc, alice := n.user("svc"), n.user("alice")
	s.gh.createUser(t, svc, userSpec{permissions: []string{"IMPERSONATE_USER"}})
	s.gh.createUser(t, alice, userSpec{})
	gw := startGateway(t, s, s.trino.URL, "session")
	const q = "SELECT custkey, name, address, acctbal, comment FROM tpch.sf1.customer ORDER BY custkey"

	c := pin(t, ctx, gw.open(t, svc))
	exec1(t, ctx, c, fmt.Sprintf("SET SESSION gatehouse.impersonate_user = '%s'", alice))
	began := time.Now()
	viaGateway, err := digest(ctx, c, q)
	if err != nil {
		t.Fatalf("through the gateway: %v", err)
	}
	t.Logf("through the gateway: %d rows in %s", viaGateway.rows, time.Since(began).Round(time.Millisecond))
	direct, err := digest(ctx, pin(t, ctx, openDB(t, s.coord(), alice)), q)
	if err != nil {
		t.Fatalf("directly: %v", err)
	}
	if viaGateway.rows < 100_000 || viaGateway != direct {
		t.Errorf("through the gateway %+v, directly %+v: want the same ≥ 100,000 rows", viaGateway, direct)
	}
}

type resultDigest struct {
	rows int
	hash uint64
}

// digest reads a whole result and hashes every value in order.
func digest(ctx context.Context, c *sql.Conn, q string) (resultDigest, error) {
	rows, err := c.QueryContext(ctx, q)
	if err != nil {
		return resultDigest{}, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return resultDigest{}, err
	}
	h := fnv.New64a()
	var d resultDigest
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return d, err
		}
		for _, v := range vals {
			fmt.Fprintf(h, "%v\x00", v)
		}
		d.rows++
	}
	d.hash = h.Sum64()
	return d, rows.Err()
}

// TestGateway08MalformedAndUnreachable: a malformed SET is a Trino USER_ERROR with a
// message saying what to write (never a proxy error), and with Trino unreachable the
// client gets a clear query error at once.
func TestGateway08MalformedAndUnreachable(t *testing.T) {
	s := setup(t)
	ctx := testContext(t, 2*time.Minute)
	svc := newNames("g8").user("svc")
	s.gh.createUser(t, svc, userSpec{})
	gw := startGateway(t, s, s.trino.URL, "session")
	c := pin(t, ctx, gw.open(t, svc))
	for _, tc := range []struct {
		stmt      string
		fragments []string
	}{
		{"SET SESSION gatehouse.impersonate_user", []string{"expected = and a quoted value"}},
		{"SET SESSION gatehouse.impersonate_user = alice", []string{"must be a quoted string literal"}},
		{"SET SESSION gatehouse.impersonate_user =", []string{"no value"}},
		{"SET SESSION gatehouse.impersonate = 'alice'", []string{"unknown session property", "gatehouse.impersonate_user"}},
	} {
		_, err := c.ExecContext(ctx, tc.stmt)
		wantQueryError(t, tc.stmt, err, "USER_ERROR", tc.fragments...)
	}
	wantUser(t, ctx, c, "after the malformed statements", svc)

	dead, err := freeAddr()
	if err != nil {
		t.Fatal(err)
	}
	down := startGateway(t, s, "http://"+dead, "session")
	began := time.Now()
	_, err = currentUser(ctx, pin(t, ctx, down.open(t, svc)))
	wantQueryError(t, "Trino unreachable", err, "EXTERNAL", "Trino did not answer (connection refused)")
	if d := time.Since(began); d > 10*time.Second {
		t.Errorf("the error took %s", d)
	}
}
