package e2e

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-authz/gatehouse/test/e2e/trinotest"
)

// The scenario tests (scenarios_test.go) share one gatehouse and one Trino coordinator:
// a coordinator takes 6-10 s to start on the 2-core machines and a JVM per test would
// also compete for those cores, while every scenario seeds its own directory users (names
// unique per test run, see newNames) and so cannot see another's state. The pair is
// started by the first test that needs it, so `-run TestTrinoSmoke` pays nothing for it,
// and stopped by TestMain after every test has run.

// Fixed identities of the shared setup (rules in testdata/rules.json refer to them).
const (
	// adminUser is a directory user holding GOVERNANCE, which the test rules give every
	// privilege: it creates the memory-catalog fixtures through the policies, as a data
	// governor would.
	adminUser = "e2e_admin"
	// exemptUser is listed in --policy-exempt-users, the way an operator lists the account
	// Trino runs system work as. It has a directory user, so that impersonating it is
	// denied only because it is exempt (scenario 4).
	exemptUser = "trino_system"
	// Groups the rules name: members of svcReaders may read memory.e2e.svc_only (scenario
	// 5), members of piiReaders see memory.e2e.employees.ssn unmasked (scenario 7).
	svcReaders = "svc_readers"
	piiReaders = "pii_readers"
	// wideTables is the size of memory.wide (scenario 8): Trino sends one FilterTables
	// batch for a schema, so a listing must not turn into one decision per table.
	wideTables = 2000
)

// suite is the shared gatehouse and coordinator.
type suite struct {
	gh    *gatehouse
	trino *trinotest.Launched
}

// coord is the coordinator, for openDB.
func (s *suite) coord() *trinotest.Coordinator { return s.trino.Coordinator }

var shared struct {
	once sync.Once
	mu   sync.Mutex
	s    suite // what has been started so far, for teardown
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	teardown()
	os.Exit(code)
}

// teardown stops Trino first (it calls gatehouse until it exits), then gatehouse.
func teardown() {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.s.trino != nil {
		shared.s.trino.Stop()
		shared.s.trino = nil
	}
	if shared.s.gh != nil {
		shared.s.gh.close()
		shared.s.gh = nil
	}
}

// setup returns the shared suite, starting it on first use. It skips with -short and
// fails (never skips) when Trino has not been fetched, with the fetch command in the
// message: a silently skipped e2e suite looks exactly like a passing one.
func setup(t *testing.T) *suite {
	t.Helper()
	if testing.Short() {
		t.Skip("starts gatehouse and a Trino coordinator; skipped with -short")
	}
	shared.once.Do(func() {
		began := time.Now()
		// If startSuite stops the test (t.Fatal), Do still counts as done: later tests
		// must see an error, not a half-started suite.
		shared.err = errors.New("an earlier test's setup was aborted")
		shared.err = startSuite(t)
		if shared.err == nil {
			t.Logf("shared gatehouse %s and Trino %s ready in %s", shared.s.gh.URL(), shared.s.trino.URL, time.Since(began).Round(time.Millisecond))
		}
	})
	if shared.err != nil {
		t.Fatalf("e2e setup failed: %v", shared.err)
	}
	s := &shared.s
	// The servers' logs go with their temporary directories; a failing test shows their
	// ends, which usually say why (a decision error, Trino's OPA client giving up).
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("--- last lines of gatehouse's log (%s) ---\n%s", s.gh.logFile, s.gh.logTail(30))
			t.Logf("--- last lines of Trino's log (%s) ---\n%s%s", s.trino.LogFile, s.trino.LogTail(60), rootCauses(s.trino.LogFile))
		}
	})
	return s
}

// rootCauses lists the distinct "Caused by:" lines of a Java log: the reason a query
// failed is usually buried below a long stack trace.
func rootCauses(logFile string) string {
	data, err := os.ReadFile(logFile)
	if err != nil {
		return ""
	}
	var causes []string
	for line := range strings.Lines(string(data)) {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "Caused by:") && !slices.Contains(causes, line) && len(causes) < 20 {
			causes = append(causes, line)
		}
	}
	if len(causes) == 0 {
		return ""
	}
	return "\n--- causes in Trino's log ---\n" + strings.Join(causes, "\n")
}

func startSuite(t *testing.T) error {
	// Check for Trino before spending time on anything else.
	if _, err := trinotest.ServerDir(); err != nil {
		return err
	}
	if _, err := trinotest.JavaHome(); err != nil {
		return err
	}
	root, err := repoRoot()
	if err != nil {
		return err
	}
	rules, err := os.ReadFile(filepath.Join("testdata", "rules.json"))
	if err != nil {
		return err
	}
	gh, err := newGatehouse(root, rules,
		"--policy-exempt-users", exemptUser,
		// Scenario 10 reads allowed decisions (ExecuteQuery, row filters) from the audit API;
		// by default only denials and ImpersonateUser are audited.
		"--decision-audit-allows", "all",
	)
	if err != nil {
		return err
	}
	shared.mu.Lock()
	shared.s.gh = gh
	shared.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if gh.bin, err = buildGatehouse(ctx, root, gh.dir); err != nil {
		return err
	}
	if err := gh.start(); err != nil {
		return err
	}

	// Directory fixtures the rules refer to.
	gh.createGroup(t, svcReaders)
	gh.createGroup(t, piiReaders)
	for _, u := range []struct {
		name string
		spec userSpec
	}{
		{adminUser, userSpec{permissions: []string{"GOVERNANCE"}}},
		{exemptUser, userSpec{}},
	} {
		if _, status, _ := gh.do("GET", "/api/v1/users/"+emailOf(u.name), nil); status == 404 {
			gh.createUser(t, u.name, u.spec)
		}
	}

	tr, err := trinotest.Launch(trinotest.Options{
		GatehouseURL: gh.URL(),
		// A catalog ordinary users may not see at all (scenario 8's SHOW CATALOGS).
		Catalogs: map[string]map[string]string{"secret": {"connector.name": "memory"}},
		AccessControl: map[string]string{
			// Even batched, Trino sends FilterColumns as one request per table, all at once:
			// information_schema.columns over scenario 8's 2,000 tables overflows the OPA
			// HTTP client's default queue of 1,024 requests per destination and fails the
			// query ("Max requests queued per destination 1024 exceeded"). Deployments with
			// large schemas need this too (see the report of issue 4).
			"opa.http-client.max-requests-queued-per-destination": "10000",
		},
	}, func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) })
	if err != nil {
		return err
	}
	shared.mu.Lock()
	shared.s.trino = tr
	shared.mu.Unlock()
	return createFixtures(ctx, openDB(t, tr.Coordinator, adminUser))
}

// createFixtures creates, as the GOVERNANCE admin, the memory-catalog tables the rules
// talk about:
//   - memory.e2e.sales (id, region, amount): a row filter `region IN
//     (${user.attributes.region})` for everyone but the admin (scenario 6);
//   - memory.e2e.employees (name, ssn): ssn masked except for group pii_readers (scenario 7);
//   - memory.e2e.svc_only: readable by group svc_readers only (scenario 5);
//   - memory.hidden.t: in a schema no rule gives ordinary users anything (scenario 8).
//
// Columns are plain varchar because Trino requires a mask's type to match the column's.
func createFixtures(ctx context.Context, admin *sql.DB) error {
	for _, stmt := range []string{
		"CREATE SCHEMA IF NOT EXISTS memory.e2e",
		"CREATE SCHEMA IF NOT EXISTS memory.wide",
		"CREATE SCHEMA IF NOT EXISTS memory.hidden",
		"CREATE TABLE IF NOT EXISTS memory.hidden.t (x bigint)",
		"CREATE TABLE IF NOT EXISTS memory.e2e.sales (id bigint, region varchar, amount bigint)",
		"CREATE TABLE IF NOT EXISTS memory.e2e.employees (name varchar, ssn varchar)",
		"CREATE TABLE IF NOT EXISTS memory.e2e.svc_only (note varchar)",
	} {
		if _, err := admin.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("fixture %q: %w", stmt, err)
		}
	}
	var n int
	if err := admin.QueryRowContext(ctx, "SELECT count(*) FROM memory.e2e.sales").Scan(&n); err != nil {
		return fmt.Errorf("fixture: counting sales: %w", err)
	}
	if n > 0 { // a -count=N rerun against the same coordinator
		return nil
	}
	for _, stmt := range []string{
		"INSERT INTO memory.e2e.sales VALUES (1, 'EMEA', 100), (2, 'EMEA', 200), (3, 'APAC', 300), (4, 'AMER', 400)",
		"INSERT INTO memory.e2e.employees VALUES ('ann', '123-45-6789'), ('bo', '987-65-4321')",
		"INSERT INTO memory.e2e.svc_only VALUES ('for service accounts')",
	} {
		if _, err := admin.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("fixture %q: %w", stmt, err)
		}
	}
	return nil
}

// repoRoot walks up from the package directory to go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// ---------------------------------------------------------------------------
// Per-test names.

var nameSeq atomic.Int64

// names gives a test's users Trino names unique in this run (s3_1_alice, ...): tests
// share one directory, and -count=N reruns a test against the same store.
type names struct{ prefix string }

func newNames(scenario string) names {
	return names{prefix: fmt.Sprintf("%s_%d", scenario, nameSeq.Add(1))}
}

func (n names) user(role string) string { return n.prefix + "_" + role }

// ---------------------------------------------------------------------------
// Query helpers.

// querier is a *sql.DB or a pinned *sql.Conn.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// queryRows runs a statement and returns its rows, each value formatted with %v
// (NULL as "NULL").
func queryRows(ctx context.Context, q querier, query string, args ...any) ([][]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
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
			if v == nil {
				row[i] = "NULL"
			} else {
				row[i] = fmt.Sprint(v)
			}
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

// column runs a statement and returns its first column, sorted.
func column(ctx context.Context, q querier, query string, args ...any) ([]string, error) {
	rows, err := queryRows(ctx, q, query, args...)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r[0]
	}
	slices.Sort(out)
	return out, nil
}

// as is the argument that makes a statement's session user name (X-Trino-User) while the
// connection authenticates as its own user: Trino then checks ImpersonateUser.
func as(user string) any { return sql.Named("X-Trino-User", user) }

// currentUser runs SELECT current_user.
func currentUser(ctx context.Context, q querier, args ...any) (string, error) {
	rows, err := queryRows(ctx, q, "SELECT current_user", args...)
	if err != nil {
		return "", err
	}
	if len(rows) != 1 {
		return "", fmt.Errorf("SELECT current_user returned %d rows", len(rows))
	}
	return rows[0][0], nil
}

// wantDenied fails the test unless err is Trino's "Access Denied" and mentions every one
// of the fragments (case-insensitively).
func wantDenied(t *testing.T, what string, err error, fragments ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: succeeded, want Access Denied", what)
		return
	}
	msg := err.Error()
	if !strings.Contains(msg, "Access Denied") {
		t.Errorf("%s: error %q, want Access Denied", what, msg)
		return
	}
	for _, f := range fragments {
		if !strings.Contains(strings.ToLower(msg), strings.ToLower(f)) {
			t.Errorf("%s: error %q does not mention %q", what, msg, f)
		}
	}
}

// testContext bounds a test: no query may hang the suite.
func testContext(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}
