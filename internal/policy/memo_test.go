package policy

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/storage"
)

const memoBundle = `package trino

default allow := false

allow if {
	who_active
	input.action.operation in data.gatehouse.users[who].permissions
}

batch := [i | some i, _ in input.items]

rowFilters := []

columnMask := {"expression": "NULL"} if input.mask

batchColumnMasks := []

# identity-scoped: input.context.identity, data, arguments
who := input.context.identity.user

who_active if not data.gatehouse.users[who].disabled

tagged(x) := concat("/", [who, x])

grants := {p | some p in data.gatehouse.users[who].permissions}

# not: the rest of input, input or data as a whole, a rule that is not
act := input.action.operation

both := [who, act]

uses_act(x) := concat("/", [act, x])

whole := input

ctx := input.context

everything := count(data.gatehouse)

all_data := [x | some x in data.other]

# a conflict for one identity: an error, never a value
conflict := 1 if input.context.identity.user == "x"

conflict := 2 if input.context.identity.x
`

func memoEngine(t *testing.T, rego string, opts ...Option) *Engine {
	t.Helper()
	dir := t.TempDir()
	writeBundle(t, dir, rego, "")
	opts = append([]Option{WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))}, opts...)
	e, err := New(context.Background(), dir, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func writeDirectory(t *testing.T, e *Engine, v string) {
	t.Helper()
	ctx := context.Background()
	if err := e.Transact(ctx, func(s storage.Store, txn storage.Transaction) error {
		return s.Write(ctx, txn, storage.AddOp, storage.Path{DirectoryKey}, ast.MustParseTerm(v).Value)
	}); err != nil {
		t.Fatal(err)
	}
}

func TestMemoKeepsOnlyIdentityScopedRules(t *testing.T) {
	m := memoEngine(t, memoBundle).current().memo
	if m == nil {
		t.Fatal("nothing memoisable")
	}
	for rule, want := range map[string]bool{
		"who": true, "who_active": true, "tagged": true, "grants": true,
		"allow": false, "act": false, "both": false, "uses_act": false, "whole": false, "ctx": false,
		"everything": true, "batch": false,
	} {
		if got := m.underPath(ast.MustParseRef("data.trino." + rule)); got != want {
			t.Errorf("%s memoisable = %v, want %v", rule, got, want)
		}
	}
	// cache keys: a function call is memoisable with ground arguments only
	fn := ast.RefTerm(ast.MustParseRef("data.trino.tagged").Copy()...)
	if !m.memoisable(ast.Ref{fn, ast.StringTerm("a")}) {
		t.Error("tagged(\"a\") is not memoisable")
	}
	if m.memoisable(ast.Ref{fn, ast.VarTerm("x")}) {
		t.Error("tagged(x) with x unbound is memoisable")
	}
	if m.memoisable(ast.MustParseRef("data.trino")) {
		t.Error("the package as a whole is memoisable")
	}
}

func TestMemoOffWhenBundleUsesWith(t *testing.T) {
	e := memoEngine(t, memoBundle+"\nmocked if {\n\twho == \"x\" with input.context.identity.user as \"x\"\n}\n")
	if e.current().memo != nil {
		t.Error("a bundle using `with` has a memo")
	}
	if e := memoEngine(t, memoBundle, WithoutMemo()); e.current().memo != nil {
		t.Error("WithoutMemo has a memo")
	}
}

// A write to the store is seen by the very next query: the memo of the
// earlier generation is not used.
func TestMemoFollowsWrites(t *testing.T) {
	e := memoEngine(t, memoBundle)
	ctx := context.Background()
	in := input(t, `{"context": {"identity": {"user": "alice"}}, "action": {"operation": "read"}}`)
	states := []struct {
		dir  string
		want bool
	}{
		{`{"users": {"alice": {"permissions": ["read"]}}}`, true},
		{`{"users": {"alice": {"permissions": ["read"], "disabled": true}}}`, false},
		{`{"users": {"alice": {"permissions": ["read"], "disabled": false}}}`, true},
		{`{"users": {"alice": {"permissions": []}}}`, false},
		{`{"users": {}}`, false},
		{`{"users": {"alice": {"permissions": ["write", "read"]}}}`, true},
	}
	for i, s := range states {
		writeDirectory(t, e, s.dir)
		for range 3 { // the first query fills the memo, the others use it
			v, _, err := e.EvalValue(ctx, "allow", in)
			if err != nil || v.Compare(ast.Boolean(s.want)) != 0 {
				t.Fatalf("state %d: allow = %v, %v; want %v", i, v, err, s.want)
			}
		}
	}
}

// A query that fails keeps nothing, though OPA cached a value before the
// conflict was found; the next one fails again.
func TestMemoKeepsNothingFromFailedQueries(t *testing.T) {
	e := memoEngine(t, memoBundle+"\nallow if conflict\n")
	ctx := context.Background()
	writeDirectory(t, e, `{"users": {}}`)
	in := input(t, `{"context": {"identity": {"user": "x", "x": true}}, "action": {"operation": "read"}}`)
	for i := range 3 {
		if _, _, err := e.EvalValue(ctx, "allow", in); err == nil {
			t.Fatalf("query %d: no conflict error", i)
		}
	}
	s := e.current().memo.subject(identityOf(in), e.dataGen.Load())
	if s.n != 0 {
		t.Errorf("a failed query kept %d results", s.n)
	}
}

// The shipped bundle answers the same with and without the memo, over a mix
// of users, operations and directory changes, queried concurrently (run with
// -race).
func TestMemoShippedBundleAnswersAsWithout(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "policies")
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	memo, err := New(ctx, dir, WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := New(ctx, dir, WithLogger(log), WithoutMemo())
	if err != nil {
		t.Fatal(err)
	}
	if memo.current().memo == nil {
		t.Fatal("the shipped bundle has nothing memoisable")
	}
	directories := []string{
		`{"users": {"alice@example.com": {"email": "alice@example.com", "disabled": false, "permissions": ["GOVERNANCE"], "groups": ["analysts"], "attributes": {}},
		  "bob@example.com": {"email": "bob@example.com", "disabled": false, "permissions": [], "groups": [], "attributes": {}}},
		  "trinoUsers": {"alice": "alice@example.com"}, "groups": {},
		  "settings": {"impersonation": {"allowedServiceUsers": [], "mode": "session"}, "policyExemptUsers": []}}`,
		`{"users": {"alice@example.com": {"email": "alice@example.com", "disabled": false, "permissions": [], "groups": [], "attributes": {}},
		  "bob@example.com": {"email": "bob@example.com", "disabled": false, "permissions": ["GOVERNANCE", "IMPERSONATE_USER"], "groups": [], "attributes": {}}},
		  "trinoUsers": {"alice": "alice@example.com", "bob": "bob@example.com"}, "groups": {},
		  "settings": {"impersonation": {"allowedServiceUsers": [], "mode": "session"}, "policyExemptUsers": []}}`,
		`{"users": {"alice@example.com": {"email": "alice@example.com", "disabled": true, "permissions": ["GOVERNANCE"], "groups": [], "attributes": {}},
		  "bob@example.com": {"email": "bob@example.com", "disabled": false, "permissions": ["IMPERSONATE_USER"], "groups": [], "attributes": {}}},
		  "trinoUsers": {"alice": "alice@example.com", "bob": "bob@example.com"}, "groups": {},
		  "settings": {"impersonation": {"allowedServiceUsers": [], "mode": "session"}, "policyExemptUsers": ["bob"]}}`,
	}
	var inputs []struct {
		entry string
		in    ast.Value
	}
	for _, user := range []string{"alice", "bob", "bob@example.com", "carol"} {
		id := `"context": {"identity": {"user": "` + user + `", "groups": []}, "softwareStack": {"trinoVersion": "476"}}`
		for _, c := range []struct{ entry, action string }{
			{"allow", `{"operation": "ExecuteQuery"}`},
			{"allow", `{"operation": "AccessCatalog", "resource": {"catalog": {"name": "c"}}}`},
			{"allow", `{"operation": "SelectFromColumns", "resource": {"table": {"catalogName": "c", "schemaName": "s", "tableName": "t", "columns": ["a"]}}}`},
			{"allow", `{"operation": "SelectFromColumns", "resource": {"table": {"catalogName": "c", "schemaName": "s", "tableName": "u", "columns": ["a", "b"]}}}`},
			{"allow", `{"operation": "InsertIntoTable", "resource": {"table": {"catalogName": "c", "schemaName": "s", "tableName": "t"}}}`},
			{"allow", `{"operation": "ImpersonateUser", "resource": {"user": {"user": "alice"}}}`},
			{"allow", `{"operation": "ReadSystemInformation"}`},
			{"batch", `{"operation": "FilterCatalogs", "filterResources": [{"catalog": {"name": "system"}}, {"catalog": {"name": "c"}}]}`},
			{"batch", `{"operation": "FilterTables", "filterResources": [{"table": {"catalogName": "c", "schemaName": "information_schema", "tableName": "t"}}, {"table": {"catalogName": "c", "schemaName": "s", "tableName": "t"}}]}`},
			{"rowFilters", `{"operation": "GetRowFilters", "resource": {"table": {"catalogName": "c", "schemaName": "s", "tableName": "t"}}}`},
			{"batchColumnMasks", `{"operation": "GetColumnMask", "filterResources": [{"column": {"catalogName": "c", "schemaName": "s", "tableName": "t", "columnName": "a", "columnType": "varchar"}}]}`},
		} {
			inputs = append(inputs, struct {
				entry string
				in    ast.Value
			}{c.entry, input(t, `{`+id+`, "action": `+c.action+`}`)})
		}
	}
	rnd := rand.New(rand.NewPCG(7, 11))
	for round, d := range directories {
		writeDirectory(t, memo, d)
		writeDirectory(t, plain, d)
		var wg sync.WaitGroup
		errs := make(chan error, 4*len(inputs))
		for w := range 4 {
			order := rnd.Perm(len(inputs))
			wg.Go(func() {
				for _, i := range order {
					c := inputs[i]
					a, aok, aerr := memo.EvalValue(ctx, c.entry, c.in)
					b, bok, berr := plain.EvalValue(ctx, c.entry, c.in)
					if aerr != nil || berr != nil || aok != bok || (aok && ast.Compare(a, b) != 0) {
						errs <- fmt.Errorf("directory %d, worker %d, %s %v:\n  memo %v %v %v\n  plain %v %v %v", round, w, c.entry, c.in, a, aok, aerr, b, bok, berr)
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	}
}
