package main

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/storage"

	"github.com/gatehouse-authz/gatehouse/internal/authz"
	"github.com/gatehouse-authz/gatehouse/internal/directory"
	"github.com/gatehouse-authz/gatehouse/internal/policy"
	"github.com/gatehouse-authz/gatehouse/internal/trino"
)

func TestGenerateRulesShape(t *testing.T) {
	d := generateRules(ruleTables)
	ri := describeRules(d)
	// GOVERNANCE first, one rule per table, a deny after each of the 100
	// group rules, the catch-all last.
	if want := 1 + ruleTables + ruleTables/10 + 1; ri.TableRules != want {
		t.Errorf("%d table rules, want %d", ri.TableRules, want)
	}
	if ri.GroupRules != 100 || ri.MaskRules != 334 || ri.FilterRule != 200 {
		t.Errorf("group %d, mask %d, filter %d rules; want 100, 334, 200", ri.GroupRules, ri.MaskRules, ri.FilterRule)
	}
	if d.Tables[0]["permission"] != "GOVERNANCE" {
		t.Errorf("first table rule is %v, want the GOVERNANCE one", d.Tables[0])
	}
	if last := d.Tables[len(d.Tables)-1]; len(last) != 1 || last["privileges"] == nil {
		t.Errorf("last table rule is %v, want the SELECT catch-all", last)
	}
	// The table-10 group rule is followed by its deny.
	for i, r := range d.Tables {
		if r["table"] == "t10" {
			if r["group"] != "g10" || len(d.Tables[i+1]["privileges"].([]string)) != 0 || d.Tables[i+1]["table"] != "t10" {
				t.Errorf("t10 rules: %v then %v", r, d.Tables[i+1])
			}
			break
		}
	}
}

func policiesDir(t *testing.T, rules rulesDoc) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir := t.TempDir()
	if err := writePolicies(filepath.Join(filepath.Dir(file), "..", "..", "policies"), dir, rules); err != nil {
		t.Fatal(err)
	}
	return dir
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestGeneratedRulesLoad checks that gatehouse's engine loads the run's
// policy directory, with its 1,000 tables, with no rule in
// data.trino.rules_errors. (Without constant folding: folding the rules
// takes half a minute under the race detector, and it changes how answers
// are computed, not which rules are valid.)
func TestGeneratedRulesLoad(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	eng, err := policy.New(ctx, policiesDir(t, generateRules(ruleTables)), policy.WithLogger(quietLog()), policy.WithoutFolding())
	if err != nil {
		t.Fatal(err)
	}
	v, defined, err := eng.EvalPath(ctx, []string{"trino", "rules_errors"}, nil)
	if err != nil || !defined {
		t.Fatalf("rules_errors: %v (defined %v)", err, defined)
	}
	if errs, ok := v.([]any); !ok || len(errs) != 0 {
		t.Fatalf("rules_errors: %v", v)
	}
}

// TestGeneratedRulesDecide checks a few decisions of the generated rules, as
// gatehouse serves them, over a small directory of the run's model: the
// scenarios measure what the report says they do. The first 30 tables have
// every kind of rule the run has (group, mask and filter rules repeat every
// 30 tables), and keep the test quick under the race detector.
func TestGeneratedRulesDecide(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	eng, err := policy.New(ctx, policiesDir(t, generateRules(30)), policy.WithLogger(quietLog()))
	if err != nil {
		t.Fatal(err)
	}
	// With 3,000 groups: u10 is in g10 (10 % 3000) and regular; u11 is in
	// g11 and g77, not g10; u5000 holds GOVERNANCE; u999 is disabled.
	m := dirModel{users: 30000, groups: 3000}
	var users []directory.User
	members := map[string][]string{}
	for _, i := range []int{10, 11, 5000, 999} {
		u := directory.User{Email: m.email(i), FullName: "u", IAM: directory.BuiltinIAM, UserID: m.email(i), Disabled: m.disabled(i),
			Permissions: m.permissions(i), Groups: m.groupsOf(i), Attributes: directory.Attributes{"region": {m.region(i)}},
			ExternalIDs: map[string]string{directory.PlatformTrino: m.trinoName(i)}}
		users = append(users, u)
		for _, g := range u.Groups {
			members[g] = append(members[g], u.Email)
		}
	}
	var groups []directory.Group
	for g, ms := range members {
		groups = append(groups, directory.Group{Name: g, Members: ms, Attributes: directory.Attributes{}})
	}
	snap := authz.DirectoryValue(users, groups, authz.Settings{}, 1)
	if err := eng.Transact(ctx, func(s storage.Store, txn storage.Transaction) error {
		return s.Write(ctx, txn, storage.AddOp, storage.Path{policy.DirectoryKey}, snap)
	}); err != nil {
		t.Fatal(err)
	}
	eval := func(b []byte, endpoint string) ast.Value {
		t.Helper()
		req, err := trino.Decode(b, endpoint)
		if err != nil {
			t.Fatal(err)
		}
		v, _, err := eng.EvalValue(ctx, endpoint, req.Input)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct {
		user string
		k    int
		want bool
	}{
		{"u11", 1, true},    // a table rule for everyone
		{"u11", 10, false},  // g10 only, and u11 is not in it: the deny
		{"u10", 10, true},   // u10 is in g10
		{"u5000", 10, true}, // GOVERNANCE first
		{"u999", 1, false},  // disabled
		{"u11", 4321, true}, // no rule of its own: the catch-all
	} {
		b := body(c.user, "SelectFromColumns", table("hive", schemaOf(c.k), tableName(c.k), []string{"id", "email"}), nil)
		if got := eval(b, trino.EndpointAllow); got.Compare(ast.Boolean(c.want)) != 0 {
			t.Errorf("%s SELECT on t%d: %v, want %v", c.user, c.k, got, c.want)
		}
	}
	// The mask scenario's table masks email for a regular user.
	b := body("u11", "GetColumnMask", nil, []any{
		column("hive", schemaOf(maskTable), tableName(maskTable), "c0", "varchar"),
		column("hive", schemaOf(maskTable), tableName(maskTable), "email", "varchar")})
	got := eval(b, trino.EndpointBatchColumnMasks)
	if want := `[{"index": 1, "viewExpression": {"expression": "'***'"}}]`; got.String() != want {
		t.Errorf("masks of t%d for u11: %v, want %s", maskTable, got, want)
	}
}
