package policy

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/topdown"
)

const foldBundle = `package trino

default allow := false

allow if input.user in allowed_users

batch := [i | some i, _ in input.items]

rowFilters := []

columnMask := {"expression": "NULL"} if input.mask

batchColumnMasks := []

# static: data files only
allowed_users := {u | some u in data.allowed}

levels := {name: n | some name, n in data.levels}

empty_list := [x | some x in data.allowed; x == "nobody"]

chained := count(allowed_users) + count(levels)

helper(x) := upper(x)

shouted := [helper(u) | some u in data.allowed]

# dynamic: input, the directory, time
from_input := input.user

from_directory := data.gatehouse.revision

from_clock := time.now_ns()

mixed := count(allowed_users) + data.gatehouse.revision
`

func foldedEngine(t *testing.T, rego, data string, opts ...Option) *Engine {
	t.Helper()
	dir := t.TempDir()
	writeBundle(t, dir, rego, data)
	opts = append([]Option{WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))}, opts...)
	e, err := New(context.Background(), dir, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// foldedRules lists the rules the current bundle evaluates from a literal.
func foldedRules(e *Engine) map[string]bool {
	out := map[string]bool{}
	for _, name := range e.current().foldedNames {
		out[name[strings.LastIndex(name, ".")+1:]] = true
	}
	return out
}

func TestFoldReplacesOnlyStaticRules(t *testing.T) {
	e := foldedEngine(t, foldBundle, `{"allowed": ["alice", "bob"], "levels": {"a": 1}}`)
	got := foldedRules(e)
	for _, r := range []string{"allowed_users", "levels", "empty_list", "chained", "shouted"} {
		if !got[r] {
			t.Errorf("%s is static but was not folded (folded: %v)", r, got)
		}
	}
	for _, r := range []string{"allow", "batch", "columnMask", "from_input", "from_directory", "from_clock", "mixed"} {
		if got[r] {
			t.Errorf("%s depends on the request, the directory or the clock but was folded", r)
		}
	}
	if e.Folded() != len(got) {
		t.Errorf("Folded() = %d, rules read from literals: %d", e.Folded(), len(got))
	}

	// The folded bundle answers as before, including for what is not folded.
	ctx := context.Background()
	if err := e.Transact(ctx, func(s storage.Store, txn storage.Transaction) error {
		return s.Write(ctx, txn, storage.AddOp, storage.Path{DirectoryKey}, ast.MustParseTerm(`{"revision": 7}`).Value)
	}); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"chained":        "3",
		"shouted":        `["ALICE", "BOB"]`,
		"empty_list":     "[]",
		"from_directory": "7",
		"mixed":          "9",
		"from_input":     `"carol"`,
	} {
		v, ok, err := e.EvalPath(ctx, []string{"trino", path}, input(t, `{"user": "carol"}`))
		if err != nil || !ok {
			t.Fatalf("%s: %v %v", path, ok, err)
		}
		if w, _ := ast.InterfaceToValue(v); ast.Compare(w, ast.MustParseTerm(want).Value) != 0 {
			t.Errorf("%s = %v, want %s", path, v, want)
		}
	}
	for user, want := range map[string]bool{"alice": true, "carol": false} {
		v, _, err := e.Eval(ctx, "allow", input(t, `{"user": "`+user+`"}`))
		if err != nil || v != want {
			t.Errorf("allow for %s = %v (%v), want %v", user, v, err, want)
		}
	}
}

func TestFoldFollowsReloadedData(t *testing.T) {
	dir := t.TempDir()
	writeBundle(t, dir, foldBundle, `{"allowed": ["alice"], "levels": {}}`)
	e, err := New(context.Background(), dir, WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if v, _, _ := e.Eval(ctx, "allow", input(t, `{"user": "bob"}`)); v != false {
		t.Fatalf("bob allowed before the data changed")
	}
	writeBundle(t, dir, foldBundle, `{"allowed": ["alice", "bob"], "levels": {}}`)
	if err := e.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if v, _, _ := e.Eval(ctx, "allow", input(t, `{"user": "bob"}`)); v != true {
		t.Fatalf("bob not allowed after the data file changed and the bundle reloaded")
	}
}

func TestFoldSkipsBundlesUsingWith(t *testing.T) {
	e := foldedEngine(t, foldBundle+"\nwith_user := u if {\n\tu := from_input with input as {\"user\": \"x\"}\n}\n", `{"allowed": [], "levels": {}}`)
	if e.Folded() != 0 {
		t.Fatalf("a bundle that uses with was folded (%d rules)", e.Folded())
	}
}

func TestWithoutFolding(t *testing.T) {
	e := foldedEngine(t, foldBundle, `{"allowed": [], "levels": {}}`, WithoutFolding())
	if e.Folded() != 0 || len(foldedRules(e)) != 0 {
		t.Fatalf("WithoutFolding folded %d rules", e.Folded())
	}
}

// The shipped bundle folds its rules.json normalisation, and answers as the
// unfolded bundle does (the trino package's differential test compares it with
// stock OPA on many more requests).
func TestShippedBundleFolds(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "policies")
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	folded, err := New(ctx, dir, WithLogger(log))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := New(ctx, dir, WithLogger(log), WithoutFolding())
	if err != nil {
		t.Fatal(err)
	}
	got := foldedRules(folded)
	for _, r := range []string{"_norm_catalogs", "_norm_tables", "_catalog_tuples", "_TABLE_INDEX3", "_query_tuples"} {
		if !got[r] {
			t.Errorf("%s was not folded", r)
		}
	}
	dirData := ast.MustParseTerm(`{"users": {"alice@example.com": {"email": "alice@example.com", "disabled": false,
		"permissions": ["GOVERNANCE"], "groups": ["analysts"], "attributes": {}}, "bob@example.com": {"email": "bob@example.com",
		"disabled": false, "permissions": [], "groups": [], "attributes": {}}}, "trinoUsers": {"alice": "alice@example.com"},
		"groups": {}, "settings": {"impersonation": {"allowedServiceUsers": [], "mode": "session"}, "policyExemptUsers": []}}`).Value
	for _, e := range []*Engine{folded, plain} {
		if err := e.Transact(ctx, func(s storage.Store, txn storage.Transaction) error {
			return s.Write(ctx, txn, storage.AddOp, storage.Path{DirectoryKey}, dirData)
		}); err != nil {
			t.Fatal(err)
		}
	}
	ident := func(user string) string {
		return `"context": {"identity": {"user": "` + user + `", "groups": []}, "softwareStack": {"trinoVersion": "476"}}`
	}
	cases := []struct{ entry, input string }{}
	for _, user := range []string{"alice", "bob", "carol"} {
		cases = append(cases,
			struct{ entry, input string }{"allow", `{` + ident(user) + `, "action": {"operation": "ExecuteQuery"}}`},
			struct{ entry, input string }{"allow", `{` + ident(user) + `, "action": {"operation": "SelectFromColumns", "resource": {"table": {"catalogName": "c", "schemaName": "s", "tableName": "t", "columns": ["a"]}}}}`},
			struct{ entry, input string }{"allow", `{` + ident(user) + `, "action": {"operation": "InsertIntoTable", "resource": {"table": {"catalogName": "c", "schemaName": "s", "tableName": "t"}}}}`},
			struct{ entry, input string }{"allow", `{` + ident(user) + `, "action": {"operation": "ViewQueryOwnedBy", "resource": {"user": {"user": "x"}}}}`},
			struct{ entry, input string }{"allow", `{` + ident(user) + `, "action": {"operation": "ReadSystemInformation"}}`},
			struct{ entry, input string }{"batch", `{` + ident(user) + `, "action": {"operation": "FilterTables", "filterResources": [{"table": {"catalogName": "c", "schemaName": "information_schema", "tableName": "t"}}, {"table": {"catalogName": "c", "schemaName": "s", "tableName": "t"}}]}}`},
			struct{ entry, input string }{"batch", `{` + ident(user) + `, "action": {"operation": "FilterCatalogs", "filterResources": [{"catalog": {"name": "system"}}, {"catalog": {"name": "c"}}]}}`},
			struct{ entry, input string }{"batchColumnMasks", `{` + ident(user) + `, "action": {"operation": "GetColumnMask", "filterResources": [{"column": {"catalogName": "c", "schemaName": "s", "tableName": "t", "columnName": "a", "columnType": "varchar"}}]}}`},
			struct{ entry, input string }{"rowFilters", `{` + ident(user) + `, "action": {"operation": "GetRowFilters", "resource": {"table": {"catalogName": "c", "schemaName": "s", "tableName": "t"}}}}`},
		)
	}
	for _, c := range cases {
		in := input(t, c.input)
		a, aok, aerr := folded.EvalValue(ctx, c.entry, in)
		b, bok, berr := plain.EvalValue(ctx, c.entry, in)
		if aerr != nil || berr != nil || aok != bok || (aok && ast.Compare(a, b) != 0) {
			t.Errorf("%s %s:\n  folded   %v %v %v\n  unfolded %v %v %v", c.entry, c.input, a, aok, aerr, b, bok, berr)
		}
	}
}

// A static rule whose definitions conflict is an error in OPA, for it and for
// every rule that reads it: neither is folded over the value OPA met first.
func TestFoldLeavesConflictsToFailAsInOPA(t *testing.T) {
	bundle := foldBundle + `
conflicted := 1 if count(data.allowed) > 0

conflicted := 2 if count(data.allowed) > 1

after_conflict := conflicted + 1

unrelated := count(data.allowed)
`
	e := foldedEngine(t, bundle, `{"allowed": ["alice", "bob"], "levels": {}}`)
	got := foldedRules(e)
	if got["conflicted"] || got["after_conflict"] {
		t.Errorf("a conflicting rule or its reader was folded: %v", got)
	}
	if !got["unrelated"] {
		t.Errorf("a static rule evaluated after the conflict was not folded: %v", got)
	}
	pq, err := e.prepare(context.Background(), e.current().compiler, ast.MustParseRef("data.trino.after_conflict"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := evalPrepared(context.Background(), pq, nil, nil); err == nil {
		t.Error("after_conflict evaluated without the conflict error")
	}
}

// Folded values share their identical parts, and stay exactly what they
// were: 1 and 1.0 are Equal in OPA but written differently.
func TestTermSharerSharesOnlyIdenticalParts(t *testing.T) {
	in := ast.MustParseTerm(`{"a": [1, 1.0, "x", {"k": ["SELECT"]}, {1, 2}], "b": [{"k": ["SELECT"]}, ["SELECT"], {2, 1}], "c": {"k": ["SELECT"]}, "d": [true, null, "1", false]}`)
	var s termSharer
	out := s.share(in)
	if out.String() != in.String() || !out.Equal(in) {
		t.Fatalf("shared value differs:\n%v\n%v", out, in)
	}
	obj := out.Value.(ast.Object)
	a, b := obj.Get(ast.StringTerm("a")).Value.(*ast.Array), obj.Get(ast.StringTerm("b")).Value.(*ast.Array)
	c := obj.Get(ast.StringTerm("c"))
	if a.Elem(3) != c || b.Elem(0) != c {
		t.Errorf("equal objects not shared")
	}
	if b.Elem(1) != c.Value.(ast.Object).Get(ast.StringTerm("k")) {
		t.Errorf("equal arrays not shared")
	}
	if a.Elem(4) != b.Elem(2) {
		t.Errorf("equal sets not shared")
	}
	if a.Elem(0) == a.Elem(1) || a.Elem(0).String() != "1" || a.Elem(1).String() != "1.0" {
		t.Errorf("1 and 1.0 merged: %v %v", a.Elem(0), a.Elem(1))
	}
	if again := s.share(in); again != out {
		t.Errorf("sharing the same value twice gave two terms")
	}
}

// Every folded rule ends up with its value, not the placeholder it was
// compiled with, and the value is the one OPA computes for the rule.
func TestFoldedRulesHoldTheirValues(t *testing.T) {
	e := foldedEngine(t, foldBundle, `{"allowed": ["alice", "bob"], "levels": {"a": 1, "b": 1.0}}`)
	b := e.current()
	if len(b.foldedNames) == 0 {
		t.Fatal("nothing folded")
	}
	unfolded := foldedEngine(t, foldBundle, `{"allowed": ["alice", "bob"], "levels": {"a": 1, "b": 1.0}}`, WithoutFolding())
	ctx := context.Background()
	txn, err := unfolded.store.NewTransaction(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer unfolded.store.Abort(ctx, txn)
	for _, name := range b.foldedNames {
		ref := ast.MustParseRef(name)
		rules := b.compiler.GetRulesExact(ref)
		if len(rules) != 1 {
			t.Fatalf("%s: %d rules", name, len(rules))
		}
		want, err := evalRef(ctx, unfolded.current().compiler, unfolded.store, txn, topdown.NewVirtualCache(), ref)
		if err != nil || want == nil {
			t.Fatalf("%s unfolded: %v, %v", name, want, err)
		}
		if got := rules[0].Head.Value; got.String() != want.String() {
			t.Errorf("%s folded to %v, OPA computes %v", name, got, want)
		}
	}
}
