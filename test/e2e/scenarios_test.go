package e2e

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The scenarios of issue 4, one test each, against the shared gatehouse and coordinator
// (main_test.go). Every test seeds its own users through the admin API and asserts what a
// Trino client sees: rows, current_user, "Access Denied" messages, filtered SHOW output,
// masked values; plus gatehouse's /metrics (scenario 8) and audit API (scenario 10).
// Scenario 11 stops and restarts the shared gatehouse, so it is the last test of the file;
// it leaves gatehouse running again for whatever runs after it.

// TestScenario01KnownAndUnknownUsers: a known active user queries tpch and gets rows (and
// cannot write: ordinary users are read-only); a Trino user the directory does not know
// is denied.
func TestScenario01KnownAndUnknownUsers(t *testing.T) {
	s := setup(t)
	ctx := testContext(t, 2*time.Minute)
	n := newNames("s1")
	alice, nobody := n.user("alice"), n.user("nobody")
	s.gh.createUser(t, alice, userSpec{})

	db := openDB(t, s.coord(), alice)
	got, err := column(ctx, db, "SELECT name FROM tpch.tiny.region")
	if err != nil {
		t.Fatalf("%s: SELECT from tpch: %v", alice, err)
	}
	if want := []string{"AFRICA", "AMERICA", "ASIA", "EUROPE", "MIDDLE EAST"}; !slices.Equal(got, want) {
		t.Errorf("%s: regions = %q, want %q", alice, got, want)
	}

	_, err = db.ExecContext(ctx, "INSERT INTO memory.e2e.sales VALUES (99, 'EMEA', 1)")
	wantDenied(t, alice+": INSERT (ordinary users are read-only)", err, "insert")

	_, err = column(ctx, openDB(t, s.coord(), nobody), "SELECT 1")
	wantDenied(t, "unknown user "+nobody+": SELECT 1", err)
	t.Logf("unknown user: %v", err)
}

// TestScenario02DisableEnableWithoutRestart: disabling a user through the admin API denies
// their next query and enabling allows it again, with the same client and no restart.
func TestScenario02DisableEnableWithoutRestart(t *testing.T) {
	s := setup(t)
	ctx := testContext(t, 2*time.Minute)
	bob := newNames("s2").user("bob")
	s.gh.createUser(t, bob, userSpec{})
	db := openDB(t, s.coord(), bob)
	const q = "SELECT count(*) FROM tpch.tiny.nation"

	wantNations := func(step string) {
		t.Helper()
		got, err := column(ctx, db, q)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		if !slices.Equal(got, []string{"25"}) {
			t.Errorf("%s: count = %q, want 25", step, got)
		}
	}
	wantNations("active")

	s.gh.setDisabled(t, bob, true)
	_, err := column(ctx, db, q)
	wantDenied(t, "after disable", err)

	s.gh.setDisabled(t, bob, false)
	wantNations("after enable")
}

// TestScenario03ImpersonationCheckedAtQueryTime: svc, without IMPERSONATE_USER, configures
// a client with session user alice; the client accepts it, and the query fails with Access
// Denied naming impersonation. Granting the permission lets the next query on the same
// connection run as alice; revoking it denies again.
func TestScenario03ImpersonationCheckedAtQueryTime(t *testing.T) {
	s := setup(t)
	n := newNames("s3")
	impersonationCheckedAtQueryTime(t, s, n.user("svc"), n.user("alice"))
}

// impersonationCheckedAtQueryTime is scenario 3; scenario 10 runs it again to read the
// decisions it leaves in the audit log.
func impersonationCheckedAtQueryTime(t *testing.T, s *suite, svc, alice string) {
	t.Helper()
	ctx := testContext(t, 2*time.Minute)
	s.gh.createUser(t, svc, userSpec{})
	s.gh.createUser(t, alice, userSpec{})

	db := openDBAsSessionUser(t, s.coord(), svc, alice)
	conn, err := db.Conn(ctx) // pinned: the grant and revoke must apply to a live connection
	if err != nil {
		t.Fatalf("the client refused the session-user configuration: %v", err)
	}
	defer conn.Close()

	_, err = currentUser(ctx, conn)
	wantDenied(t, svc+" as "+alice+" without IMPERSONATE_USER", err, "impersonate", svc, alice)
	t.Logf("without the permission: %v", err)

	s.gh.grant(t, svc, "IMPERSONATE_USER")
	user, err := currentUser(ctx, conn)
	if err != nil {
		t.Fatalf("%s as %s after the grant: %v", svc, alice, err)
	}
	if user != alice {
		t.Errorf("current_user = %q, want %q", user, alice)
	}

	s.gh.revoke(t, svc, "IMPERSONATE_USER")
	_, err = currentUser(ctx, conn)
	wantDenied(t, svc+" as "+alice+" after the revoke", err, "impersonate", svc, alice)
}

// TestScenario04ImpersonatingDisabledOrExemptDenied: a user holding IMPERSONATE_USER may
// not impersonate a disabled user or a policy-exempt one; a policy-exempt user may not
// impersonate anyone, nor may a disabled one.
func TestScenario04ImpersonatingDisabledOrExemptDenied(t *testing.T) {
	s := setup(t)
	ctx := testContext(t, 2*time.Minute)
	n := newNames("s4")
	svc, carol, dave := n.user("svc"), n.user("carol"), n.user("dave")
	s.gh.createUser(t, svc, userSpec{permissions: []string{"IMPERSONATE_USER"}})
	s.gh.createUser(t, carol, userSpec{disabled: true})
	s.gh.createUser(t, dave, userSpec{})
	db := openDB(t, s.coord(), svc)

	// Control: svc does impersonate an active, ordinary user.
	if user, err := currentUser(ctx, db, as(dave)); err != nil || user != dave {
		t.Fatalf("%s as %s: current_user = %q, %v; want %q", svc, dave, user, err, dave)
	}
	_, err := currentUser(ctx, db, as(carol))
	wantDenied(t, svc+" as disabled "+carol, err, "impersonate", carol)
	_, err = currentUser(ctx, db, as(exemptUser))
	wantDenied(t, svc+" as policy-exempt "+exemptUser, err, "impersonate", exemptUser)

	sys := openDB(t, s.coord(), exemptUser)
	if user, err := currentUser(ctx, sys); err != nil || user != exemptUser {
		t.Errorf("%s as itself: current_user = %q, %v; want %q", exemptUser, user, err, exemptUser)
	}
	_, err = currentUser(ctx, sys, as(dave))
	wantDenied(t, "policy-exempt "+exemptUser+" as "+dave, err, "impersonate", dave)

	// A disabled impersonator is denied too, IMPERSONATE_USER notwithstanding.
	s.gh.setDisabled(t, svc, true)
	_, err = currentUser(ctx, db, as(dave))
	wantDenied(t, "disabled "+svc+" as "+dave, err, "impersonate", dave)
}

// TestScenario05ImpersonatorPrivilegesDoNotApply: svc may read memory.e2e.svc_only (its
// group svc_readers may), alice may not, and svc impersonating alice may not either: under
// impersonation every check is the target's.
func TestScenario05ImpersonatorPrivilegesDoNotApply(t *testing.T) {
	s := setup(t)
	ctx := testContext(t, 2*time.Minute)
	n := newNames("s5")
	svc, alice := n.user("svc"), n.user("alice")
	s.gh.createUser(t, svc, userSpec{permissions: []string{"IMPERSONATE_USER"}, groups: []string{svcReaders}})
	s.gh.createUser(t, alice, userSpec{})
	const q = "SELECT note FROM memory.e2e.svc_only"

	svcDB := openDB(t, s.coord(), svc)
	got, err := column(ctx, svcDB, q)
	if err != nil {
		t.Fatalf("%s reading svc_only: %v", svc, err)
	}
	if !slices.Equal(got, []string{"for service accounts"}) {
		t.Errorf("%s reading svc_only: %q", svc, got)
	}

	_, err = column(ctx, openDB(t, s.coord(), alice), q)
	wantDenied(t, alice+" reading svc_only", err, "svc_only")

	if user, err := currentUser(ctx, svcDB, as(alice)); err != nil || user != alice {
		t.Fatalf("%s as %s: current_user = %q, %v; want %q", svc, alice, user, err, alice)
	}
	_, err = column(ctx, svcDB, q, as(alice))
	wantDenied(t, svc+" as "+alice+" reading svc_only", err, "svc_only")
}

// TestScenario06PersonalisedDashboard: one query over memory.e2e.sales, whose row filter is
// `region IN (${user.attributes.region})`: alice (EMEA) sees only EMEA rows, bob (APAC) only
// APAC, and svc impersonating each sees each one's rows.
func TestScenario06PersonalisedDashboard(t *testing.T) {
	s := setup(t)
	n := newNames("s6")
	personalisedDashboard(t, s, n.user("svc"), n.user("alice"), n.user("bob"))

	// Attribute values become SQL string literals: several values widen the filter, and a
	// value written to break out of its literal matches nothing rather than everything.
	ctx := testContext(t, time.Minute)
	carol, mallory := n.user("carol"), n.user("mallory")
	s.gh.createUser(t, carol, userSpec{attributes: map[string][]string{"region": {"EMEA", "AMER"}}})
	s.gh.createUser(t, mallory, userSpec{attributes: map[string][]string{"region": {"x') OR (1=1", "x' OR 'a'='a"}}})
	const regions = "SELECT DISTINCT region FROM memory.e2e.sales"
	if got, err := column(ctx, openDB(t, s.coord(), carol), regions); err != nil || !slices.Equal(got, []string{"AMER", "EMEA"}) {
		t.Errorf("%s (EMEA and AMER) sees regions %q, %v; want [AMER EMEA]", carol, got, err)
	}
	if got, err := column(ctx, openDB(t, s.coord(), mallory), regions); err != nil || len(got) != 0 {
		t.Errorf("%s (quote-breaking region values) sees regions %q, %v; want none", mallory, got, err)
	}
}

// personalisedDashboard is scenario 6; scenario 10 runs it again for the audit log. alice
// and bob query directly before svc impersonates them, so that their own decisions come
// before any impersonation of them (see TestScenario10AuditShowsImpersonator).
func personalisedDashboard(t *testing.T, s *suite, svc, alice, bob string) {
	t.Helper()
	ctx := testContext(t, 2*time.Minute)
	s.gh.createUser(t, svc, userSpec{permissions: []string{"IMPERSONATE_USER"}})
	s.gh.createUser(t, alice, userSpec{attributes: map[string][]string{"region": {"EMEA"}}})
	s.gh.createUser(t, bob, userSpec{attributes: map[string][]string{"region": {"APAC"}}})
	const dashboard = "SELECT region, amount FROM memory.e2e.sales ORDER BY id"
	emea := [][]string{{"EMEA", "100"}, {"EMEA", "200"}}
	apac := [][]string{{"APAC", "300"}}

	check := func(who string, db *sql.DB, want [][]string, args ...any) {
		t.Helper()
		got, err := queryRows(ctx, db, dashboard, args...)
		if err != nil {
			t.Errorf("%s: %v", who, err)
			return
		}
		if !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("%s sees %q, want %q", who, got, want)
		}
	}
	check(alice, openDB(t, s.coord(), alice), emea)
	check(bob, openDB(t, s.coord(), bob), apac)
	svcDB := openDB(t, s.coord(), svc)
	check(svc+" as "+alice, svcDB, emea, as(alice))
	check(svc+" as "+bob, svcDB, apac, as(bob))
	// svc has no region attribute: the filter renders `region IN (NULL)`, which keeps nothing.
	check(svc+" as itself", svcDB, nil)
}

// TestScenario07ColumnMask: memory.e2e.employees.ssn is masked, through the
// batchColumnMasks endpoint, for everyone but group pii_readers; under impersonation the
// target's membership decides.
func TestScenario07ColumnMask(t *testing.T) {
	s := setup(t)
	ctx := testContext(t, 2*time.Minute)
	n := newNames("s7")
	svc, alice, hr := n.user("svc"), n.user("alice"), n.user("hr")
	s.gh.createUser(t, svc, userSpec{permissions: []string{"IMPERSONATE_USER"}, groups: []string{piiReaders}})
	s.gh.createUser(t, alice, userSpec{})
	s.gh.createUser(t, hr, userSpec{groups: []string{piiReaders}})
	const q = "SELECT name, ssn FROM memory.e2e.employees ORDER BY name"
	masked := [][]string{{"ann", "XXX-XX-6789"}, {"bo", "XXX-XX-4321"}}
	unmasked := [][]string{{"ann", "123-45-6789"}, {"bo", "987-65-4321"}}

	before := s.gh.metrics(t)
	svcDB := openDB(t, s.coord(), svc)
	for _, c := range []struct {
		who  string
		db   *sql.DB
		args []any
		want [][]string
	}{
		{alice, openDB(t, s.coord(), alice), nil, masked},
		{hr, openDB(t, s.coord(), hr), nil, unmasked},
		{svc + " as " + alice, svcDB, []any{as(alice)}, masked}, // svc's own group does not count
		{svc + " as " + hr, svcDB, []any{as(hr)}, unmasked},
	} {
		got, err := queryRows(ctx, c.db, q, c.args...)
		if err != nil {
			t.Errorf("%s: %v", c.who, err)
			continue
		}
		if !slices.EqualFunc(got, c.want, slices.Equal) {
			t.Errorf("%s sees %q, want %q", c.who, got, c.want)
		}
	}
	// The mask applies before predicates: alice cannot find a row by its clear value.
	got, err := queryRows(ctx, openDB(t, s.coord(), alice), "SELECT name FROM memory.e2e.employees WHERE ssn = '123-45-6789'")
	if err != nil || len(got) != 0 {
		t.Errorf("%s filtering on the clear ssn: rows %q, %v; want none", alice, got, err)
	}

	after := s.gh.metrics(t)
	batch := after.decisionsFor("batchColumnMasks", "GetColumnMask") - before.decisionsFor("batchColumnMasks", "GetColumnMask")
	single := after.decisionsFor("columnMask", "") - before.decisionsFor("columnMask", "")
	t.Logf("masks: %v batchColumnMasks requests, %v columnMask requests", batch, single)
	if batch < 5 {
		t.Errorf("batchColumnMasks requests = %v, want at least one per query (5)", batch)
	}
	if single != 0 {
		t.Errorf("columnMask (single) requests = %v, want 0: Trino should use the batch endpoint", single)
	}
}

// TestScenario08MetadataFilteredInBatches: SHOW CATALOGS / SCHEMAS / TABLES and
// information_schema.columns show an ordinary user only what the rules let them see, and
// are filtered through the batch endpoint; a schema of 2,000 tables lists with batch
// calls only — no allow call per table.
func TestScenario08MetadataFilteredInBatches(t *testing.T) {
	s := setup(t)
	ctx := testContext(t, 6*time.Minute)
	alice := newNames("s8").user("alice")
	s.gh.createUser(t, alice, userSpec{})
	aliceDB, adminDB := openDB(t, s.coord(), alice), openDB(t, s.coord(), adminUser)

	before := s.gh.metrics(t)
	for _, c := range []struct {
		query        string
		alice, admin []string // exact, sorted
		// For SHOW SCHEMAS, whose exact list depends on information_schema's visibility:
		aliceHas, aliceLacks, adminHas []string
	}{
		{query: "SHOW CATALOGS", alice: []string{"memory", "system", "tpch"}, admin: []string{"memory", "secret", "system", "tpch"}},
		{query: "SHOW SCHEMAS FROM memory", aliceHas: []string{"e2e", "wide"}, aliceLacks: []string{"default", "hidden"}, adminHas: []string{"default", "e2e", "hidden", "wide"}},
		{query: "SHOW TABLES FROM memory.e2e", alice: []string{"employees", "sales"}, admin: []string{"employees", "sales", "svc_only"}},
		{
			query: "SELECT table_name || '.' || column_name FROM memory.information_schema.columns WHERE table_schema = 'e2e'",
			alice: []string{"employees.name", "employees.ssn", "sales.amount", "sales.id", "sales.region"},
			admin: []string{"employees.name", "employees.ssn", "sales.amount", "sales.id", "sales.region", "svc_only.note"},
		},
	} {
		got, err := column(ctx, aliceDB, c.query)
		if err != nil {
			t.Errorf("%s as %s: %v", c.query, alice, err)
			continue
		}
		if c.alice != nil && !slices.Equal(got, c.alice) {
			t.Errorf("%s as %s = %q, want %q", c.query, alice, got, c.alice)
		}
		for _, x := range c.aliceHas {
			if !slices.Contains(got, x) {
				t.Errorf("%s as %s = %q, want it to include %q", c.query, alice, got, x)
			}
		}
		for _, x := range c.aliceLacks {
			if slices.Contains(got, x) {
				t.Errorf("%s as %s = %q, want it without %q", c.query, alice, got, x)
			}
		}
		adminGot, err := column(ctx, adminDB, c.query)
		if err != nil {
			t.Errorf("%s as %s: %v", c.query, adminUser, err)
			continue
		}
		if c.admin != nil && !slices.Equal(adminGot, c.admin) {
			t.Errorf("%s as %s = %q, want %q", c.query, adminUser, adminGot, c.admin)
		}
		for _, x := range c.adminHas {
			if !slices.Contains(adminGot, x) {
				t.Errorf("%s as %s = %q, want it to include %q", c.query, adminUser, adminGot, x)
			}
		}
		t.Logf("%s: %s sees %q; %s sees %q", c.query, alice, got, adminUser, adminGot)
	}
	after := s.gh.metrics(t)
	for _, op := range []string{"FilterCatalogs", "FilterSchemas", "FilterTables", "FilterColumns"} {
		if d := after.decisionsFor("batch", op) - before.decisionsFor("batch", op); d < 1 {
			t.Errorf("batch %s decisions grew by %v during the SHOW queries, want at least 1", op, d)
		}
		if d := after.decisionsFor("allow", op) - before.decisionsFor("allow", op); d != 0 {
			t.Errorf("allow %s decisions grew by %v, want 0: Filter* checks must use the batch endpoint", op, d)
		}
	}

	// 2,000 tables, created as the admin with a few statements in flight at a time.
	began := time.Now()
	if err := createWideTables(ctx, adminDB); err != nil {
		t.Fatalf("creating memory.wide: %v", err)
	}
	t.Logf("created %d tables in memory.wide in %s", wideTables, time.Since(began).Round(time.Millisecond))

	before = s.gh.metrics(t)
	began = time.Now()
	tables, err := column(ctx, aliceDB, "SHOW TABLES FROM memory.wide")
	if err != nil {
		t.Fatalf("SHOW TABLES FROM memory.wide: %v", err)
	}
	if len(tables) != wideTables {
		t.Errorf("SHOW TABLES FROM memory.wide lists %d tables, want %d", len(tables), wideTables)
	}
	t.Logf("SHOW TABLES FROM memory.wide: %d rows in %s", len(tables), time.Since(began).Round(time.Millisecond))
	mid := s.gh.metrics(t)
	began = time.Now()
	cols, err := column(ctx, aliceDB, "SELECT count(*) FROM memory.information_schema.columns WHERE table_schema = 'wide'")
	if err != nil {
		t.Fatalf("information_schema.columns of memory.wide: %v", err)
	}
	if !slices.Equal(cols, []string{fmt.Sprint(wideTables)}) {
		t.Errorf("information_schema.columns of memory.wide counts %q columns, want %d", cols, wideTables)
	}
	t.Logf("information_schema.columns of memory.wide: in %s", time.Since(began).Round(time.Millisecond))
	after = s.gh.metrics(t)

	delta := func(from, to metricSet, endpoint, op string) float64 {
		return to.decisionsFor(endpoint, op) - from.decisionsFor(endpoint, op)
	}
	// A batch of more than 1,024 items: the whole schema went in one request.
	bigBatches := func(ms metricSet) float64 {
		return ms.sum("gatehouse_batch_size_bucket", map[string]string{"endpoint": "batch", "le": "+Inf"}) -
			ms.sum("gatehouse_batch_size_bucket", map[string]string{"endpoint": "batch", "le": "1024"})
	}
	t.Logf("SHOW TABLES: batch FilterTables +%v (batches over 1,024 items +%v), allow +%v in all",
		delta(before, mid, "batch", "FilterTables"), bigBatches(mid)-bigBatches(before), delta(before, mid, "allow", ""))
	t.Logf("information_schema.columns: batch FilterTables +%v, batch FilterColumns +%v (one per table, Trino's batching), allow +%v in all",
		delta(mid, after, "batch", "FilterTables"), delta(mid, after, "batch", "FilterColumns"), delta(mid, after, "allow", ""))
	for _, step := range []struct {
		name      string
		from, to  metricSet
		minColumn float64
	}{
		{"SHOW TABLES", before, mid, 0},
		{"information_schema.columns", mid, after, wideTables},
	} {
		if d := delta(step.from, step.to, "batch", "FilterTables"); d < 1 {
			t.Errorf("%s: batch FilterTables decisions +%v, want at least 1", step.name, d)
		}
		if d := bigBatches(step.to) - bigBatches(step.from); d < 1 {
			t.Errorf("%s: no batch of more than 1,024 items, want the %d tables in one FilterTables request", step.name, wideTables)
		}
		if d := delta(step.from, step.to, "batch", "FilterColumns"); d < step.minColumn {
			t.Errorf("%s: batch FilterColumns decisions +%v, want at least %v", step.name, d, step.minColumn)
		}
		// Table-level operations on the allow endpoint: a handful per query (the
		// information_schema table itself), never one per listed table.
		var perTable float64
		for _, op := range []string{"FilterTables", "FilterColumns", "SelectFromColumns", "ShowColumns", "ShowCreateTable"} {
			perTable += delta(step.from, step.to, "allow", op)
		}
		if perTable > 10 {
			t.Errorf("%s: %v allow decisions on tables, want a handful (no call per table of %d)", step.name, perTable, wideTables)
		}
	}
}

// createWideTables creates memory.wide.t0000 ... with 8 statements in flight: DDL runs on
// the coordinator without scheduling a query, so this takes seconds, not minutes.
func createWideTables(ctx context.Context, db *sql.DB) error {
	var existing int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM memory.information_schema.tables WHERE table_schema = 'wide'").Scan(&existing); err != nil {
		return err
	}
	if existing == wideTables { // a -count=N rerun against the same coordinator
		return nil
	}
	const workers = 8
	next := make(chan int)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if _, err := db.ExecContext(ctx, fmt.Sprintf("CREATE TABLE IF NOT EXISTS memory.wide.t%04d (x bigint)", i)); err != nil {
					errs <- fmt.Errorf("table %d: %w", i, err)
					return
				}
			}
		}()
	}
	var err error
feed:
	for i := range wideTables {
		select {
		case next <- i:
		case err = <-errs:
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errs:
		default:
		}
	}
	return err
}

// TestScenario09ImpersonationRuleWithGroupReference: the rules.json impersonation rule
// {"original_user": "team_(.*)", "new_user": "team_$1_sandbox"} lets team_X run as
// team_X_sandbox — and nothing else — without IMPERSONATE_USER.
func TestScenario09ImpersonationRuleWithGroupReference(t *testing.T) {
	s := setup(t)
	ctx := testContext(t, 2*time.Minute)
	n := newNames("s9")
	team := "team_" + n.user("red")
	sandbox := team + "_sandbox"
	otherSandbox := "team_" + n.user("blue") + "_sandbox"
	outsider, alice := n.user("svc"), n.user("alice")
	for _, u := range []string{team, sandbox, otherSandbox, outsider, alice} {
		s.gh.createUser(t, u, userSpec{})
	}

	teamDB := openDB(t, s.coord(), team)
	if user, err := currentUser(ctx, teamDB, as(sandbox)); err != nil || user != sandbox {
		t.Fatalf("%s as %s: current_user = %q, %v; want %q", team, sandbox, user, err, sandbox)
	}
	if got, err := column(ctx, teamDB, "SELECT count(*) FROM tpch.tiny.region", as(sandbox)); err != nil || !slices.Equal(got, []string{"5"}) {
		t.Errorf("%s as %s reading tpch: %q, %v", team, sandbox, got, err)
	}
	_, err := currentUser(ctx, teamDB, as(otherSandbox))
	wantDenied(t, team+" as another team's sandbox "+otherSandbox, err, "impersonate", otherSandbox)
	_, err = currentUser(ctx, teamDB, as(alice))
	wantDenied(t, team+" as "+alice, err, "impersonate", alice)
	_, err = currentUser(ctx, openDB(t, s.coord(), outsider), as(sandbox))
	wantDenied(t, outsider+" (not team_*) as "+sandbox, err, "impersonate", sandbox)
}

// TestScenario10AuditShowsImpersonator: the audit API shows the decisions of scenarios 3
// and 6 made under impersonation with impersonationUser = svc. The test runs both again
// with its own users, so it holds whichever tests run before it.
//
// Trino 476 sends no queryId, so gatehouse attributes a target's checks to the
// impersonator for a short window after an allowed ImpersonateUser
// (internal/authz/impersonation.go). The dashboard users query directly before svc
// impersonates them, so their own decisions must carry no impersonationUser.
func TestScenario10AuditShowsImpersonator(t *testing.T) {
	s := setup(t)
	n3, n6 := newNames("s10"), newNames("s10")
	svc3, alice3 := n3.user("svc"), n3.user("alice")
	svc6, alice6, bob6 := n6.user("svc"), n6.user("alice"), n6.user("bob")
	t.Run("scenario 3", func(t *testing.T) { impersonationCheckedAtQueryTime(t, s, svc3, alice3) })
	t.Run("scenario 6", func(t *testing.T) { personalisedDashboard(t, s, svc6, alice6, bob6) })
	if t.Failed() {
		t.FailNow()
	}

	// Scenario 3: svc's ImpersonateUser decisions (denied, allowed, denied), and alice's
	// query, which she never ran herself, attributed to svc.
	svcRecs := s.gh.waitDecisions(t, svc3, func(rs []decisionRecord) bool {
		return count(rs, func(r decisionRecord) bool { return r.Details.Operation == "ImpersonateUser" }) >= 3
	})
	var results []string
	for _, r := range slices.Backward(svcRecs) { // oldest first
		if r.Details.Operation == "ImpersonateUser" && r.Details.Target == alice3 {
			results = append(results, r.Details.Result)
		}
	}
	if !slices.Equal(results, []string{"deny", "allow", "deny"}) {
		t.Errorf("%s's ImpersonateUser decisions for %s: %q, want [deny allow deny]\n%s", svc3, alice3, results, list(svcRecs))
	}
	aliceRecs := s.gh.waitDecisions(t, alice3, func(rs []decisionRecord) bool {
		return count(rs, func(r decisionRecord) bool { return r.Details.Operation == "ExecuteQuery" }) >= 1
	})
	if count(aliceRecs, func(r decisionRecord) bool { return r.Details.Operation == "ExecuteQuery" }) == 0 {
		t.Errorf("no ExecuteQuery decision for %s in the audit log", alice3)
	}
	for _, r := range aliceRecs {
		if r.Details.ImpersonationUser != svc3 {
			t.Errorf("%s's decision %s has impersonationUser %q, want %q (she ran nothing herself)", alice3, r, r.Details.ImpersonationUser, svc3)
		}
	}

	// Scenario 6: each viewer's row-filter decisions, their own and those under svc.
	for _, u := range []string{alice6, bob6} {
		rowFilters := func(rs []decisionRecord, by string) int {
			return count(rs, func(r decisionRecord) bool {
				return r.Details.Operation == "GetRowFilters" && r.Details.ImpersonationUser == by
			})
		}
		recs := s.gh.waitDecisions(t, u, func(rs []decisionRecord) bool { return rowFilters(rs, svc6) >= 1 && rowFilters(rs, "") >= 1 })
		if rowFilters(recs, svc6) < 1 {
			t.Errorf("no GetRowFilters decision for %s with impersonationUser %s:\n%s", u, svc6, list(recs))
		}
		if rowFilters(recs, "") < 1 {
			t.Errorf("no GetRowFilters decision for %s's own query (without impersonationUser):\n%s", u, list(recs))
		}
		if count(recs, func(r decisionRecord) bool {
			return r.Details.ImpersonationUser != "" && r.Details.ImpersonationUser != svc6
		}) > 0 {
			t.Errorf("decisions for %s name an impersonator other than %s:\n%s", u, svc6, list(recs))
		}
	}
}

func count[T any](xs []T, f func(T) bool) int {
	n := 0
	for _, x := range xs {
		if f(x) {
			n++
		}
	}
	return n
}

func list(rs []decisionRecord) string {
	var b strings.Builder
	for _, r := range slices.Backward(rs) {
		b.WriteString("  " + r.String() + "\n")
	}
	return b.String()
}

// TestScenario11FailClosedAndRestart: with gatehouse stopped Trino's queries fail (never
// allowed by default); gatehouse started again on the same port and data directory
// serves the same directory, and queries succeed without restarting Trino.
func TestScenario11FailClosedAndRestart(t *testing.T) {
	s := setup(t)
	ctx := testContext(t, 3*time.Minute)
	n := newNames("s11")
	alice, bob := n.user("alice"), n.user("bob")
	s.gh.createUser(t, alice, userSpec{})
	s.gh.createUser(t, bob, userSpec{disabled: true}) // state that must survive the restart
	aliceDB, bobDB := openDB(t, s.coord(), alice), openDB(t, s.coord(), bob)
	const q = "SELECT count(*) FROM tpch.tiny.nation"
	if got, err := column(ctx, aliceDB, q); err != nil || !slices.Equal(got, []string{"25"}) {
		t.Fatalf("before the stop: %q, %v", got, err)
	}

	s.gh.stop()
	// Whatever happens below, later tests get a running gatehouse back.
	t.Cleanup(func() {
		if s.gh.cmd == nil {
			if err := s.gh.start(); err != nil {
				t.Errorf("restarting gatehouse after the test: %v", err)
			}
		}
	})
	began := time.Now()
	got, err := column(ctx, aliceDB, q)
	if err == nil {
		t.Fatalf("with gatehouse stopped the query succeeded (%q): Trino must fail closed", got)
	}
	if strings.Contains(err.Error(), "Access Denied") {
		t.Logf("note: the failure reads as a denial")
	}
	t.Logf("with gatehouse stopped, the query failed in %s: %v", time.Since(began).Round(time.Millisecond), err)

	if err := s.gh.start(); err != nil {
		t.Fatalf("restarting gatehouse on %s with %s: %v", s.gh.httpAddr, s.gh.dataDir, err)
	}
	if got, err := column(ctx, aliceDB, q); err != nil || !slices.Equal(got, []string{"25"}) {
		t.Errorf("after the restart: %q, %v; want 25", got, err)
	}
	_, err = column(ctx, bobDB, q)
	wantDenied(t, "disabled "+bob+" after the restart", err)
}
