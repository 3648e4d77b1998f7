package policy

import (
	"context"
	"strings"
	"testing"
	"unsafe"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
)

func TestPackedRecordRoundTrip(t *testing.T) {
	for _, src := range []string{
		`{}`, `[]`, `"x"`, `true`, `false`, `null`, `0`, `-1.5e3`, `12345678901234567890`,
		`{"email": "a@b.c", "disabled": false, "groups": ["g1", "g2"], "attributes": {"region": ["EMEA"]}, "externalIds": {}}`,
		`{"quote\"d": "back\\slash", "ctl": "a\u0001b", "uni": "zoë ✓ 𝄞", "html": "<&>", "nested": [[1, [2, {"k": null}]]]}`,
		`{"set": {"a", "b"}}`,
	} {
		v := ast.MustParseTerm(src).Value
		p := Pack(v)
		got, err := p.value()
		if err != nil {
			t.Fatalf("%s: packed as %s: %v", src, p, err)
		}
		want := v
		if s, ok := v.(ast.Object); ok && s.Get(ast.StringTerm("set")) != nil {
			want = ast.MustParseTerm(`{"set": ["a", "b"]}`).Value // sets are written as arrays
		}
		if got.Compare(want) != 0 {
			t.Errorf("%s: packed as %s, read back as %v", src, p, got)
		}
	}
}

func TestPackedRecordErrors(t *testing.T) {
	for _, bad := range []string{``, `{`, `{"a"}`, `{"a":1,}`, `[1 2]`, `"open`, `tru`, `1x`, `{"a":1}x`, `-`} {
		if _, err := Packed(bad).value(); err == nil || !strings.Contains(err.Error(), "directory record") {
			t.Errorf("%q: err %v, want a directory record error", bad, err)
		}
	}
}

// The store keeps records packed but reads like a plain store: a record, a
// path inside one, a whole collection or the root, and a missing path.
func TestDataStoreReadsRecords(t *testing.T) {
	ctx := context.Background()
	s := dataStore{inmem.NewFromObjectWithOpts(map[string]any{}, inmem.OptRoundTripOnWrite(false), inmem.OptReturnASTValuesOnRead(false))}
	alice := ast.MustParseTerm(`{"email": "alice", "groups": ["eng", "ops"], "attributes": {"region": ["EMEA"]}}`).Value
	// A collection is a map of records, or (as a snapshot is built) a
	// Collection. Both read alike.
	trino := NewCollectionBuilder(1)
	trino.Add("al", ast.String("alice"))
	root := map[string]any{
		"users":      map[string]any{"alice": Pack(alice), "bob": Pack(ast.MustParseTerm(`{"email": "bob"}`).Value)},
		"trinoUsers": trino.Build(),
		"groups":     map[string]any{},
		"settings":   map[string]any{"impersonation": map[string]any{"mode": "session"}},
	}
	write := func(path storage.Path, v any) error {
		return storage.Txn(ctx, s, storage.WriteParams, func(txn storage.Transaction) error {
			return s.Write(ctx, txn, storage.AddOp, path, v)
		})
	}
	read := func(path ...string) (any, error) {
		var v any
		err := storage.Txn(ctx, s, storage.TransactionParams{}, func(txn storage.Transaction) error {
			var err error
			v, err = s.Read(ctx, txn, path)
			return err
		})
		return v, err
	}
	if err := write(storage.Path{DirectoryKey}, root); err != nil {
		t.Fatal(err)
	}
	// A record written as AST is packed too.
	if err := write(storage.Path{DirectoryKey, "groups", "eng"}, ast.MustParseTerm(`{"members": ["alice"]}`).Value); err != nil {
		t.Fatal(err)
	}
	// So is a Trino name's holder, written as a string.
	if err := write(storage.Path{DirectoryKey, "trinoUsers", "bo"}, ast.String("bob")); err != nil {
		t.Fatal(err)
	}
	raw, _ := storage.ReadOne(ctx, s.Store, storage.Path{DirectoryKey, "groups", "eng"})
	if _, ok := raw.(Packed); !ok {
		t.Fatalf("groups/eng kept as %T, want Packed", raw)
	}
	for _, c := range []struct {
		path []string
		want string // Rego text; "" for not found
	}{
		{[]string{DirectoryKey, "users", "alice"}, `{"email": "alice", "groups": ["eng", "ops"], "attributes": {"region": ["EMEA"]}}`},
		{[]string{DirectoryKey, "users", "alice", "groups", "1"}, `"ops"`},
		{[]string{DirectoryKey, "users", "alice", "attributes", "region"}, `["EMEA"]`},
		{[]string{DirectoryKey, "users", "alice", "groups", "2"}, ""},
		{[]string{DirectoryKey, "users", "alice", "nope"}, ""},
		{[]string{DirectoryKey, "users", "carol"}, ""},
		{[]string{DirectoryKey, "groups", "eng", "members"}, `["alice"]`},
		{[]string{DirectoryKey, "users", "bob"}, `{"email": "bob"}`},
		{[]string{DirectoryKey, "users", "bob", "email"}, `"bob"`},
		{[]string{DirectoryKey, "trinoUsers", "al"}, `"alice"`},
		{[]string{DirectoryKey, "trinoUsers", "al", "x"}, ""},
		{[]string{DirectoryKey, "trinoUsers", "bo"}, `"bob"`},
		{[]string{DirectoryKey, "users"}, `{"alice": {"email": "alice", "groups": ["eng", "ops"], "attributes": {"region": ["EMEA"]}}, "bob": {"email": "bob"}}`},
		{[]string{DirectoryKey, "settings", "impersonation", "mode"}, `"session"`},
		{[]string{}, `{"gatehouse": {"users": {"alice": {"email": "alice", "groups": ["eng", "ops"], "attributes": {"region": ["EMEA"]}}, "bob": {"email": "bob"}}, "trinoUsers": {"al": "alice", "bo": "bob"}, "groups": {"eng": {"members": ["alice"]}}, "settings": {"impersonation": {"mode": "session"}}}}`},
	} {
		got, err := read(c.path...)
		if c.want == "" {
			if !storage.IsNotFound(err) {
				t.Errorf("%v: got %v, %v; want not found", c.path, got, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", c.path, err)
			continue
		}
		v, ok := got.(ast.Value)
		if !ok {
			if v, err = ast.InterfaceToValue(got); err != nil {
				t.Fatal(err)
			}
		}
		if want := ast.MustParseTerm(c.want).Value; v.Compare(want) != 0 {
			t.Errorf("%v: got %v, want %v", c.path, v, want)
		}
	}
	if err := write(storage.Path{DirectoryKey, "users", "alice", "email"}, "x"); err == nil || !strings.Contains(err.Error(), "written whole") {
		t.Errorf("a write inside a record: %v, want an error", err)
	}
}

func BenchmarkPackedUserRead(b *testing.B) {
	p := Pack(ast.MustParseTerm(`{"email": "u4242@example.com", "fullName": "User 4242", "iam": "bim", "userId": "u4242@example.com", "disabled": false,
		"permissions": ["IMPERSONATE_USER"], "groups": ["g4242", "g9694"], "attributes": {"region": ["EMEA"]}, "externalIds": {"trino": "u4242"}}`).Value)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.value(); err != nil {
			b.Fatal(err)
		}
	}
}

// What the memo keeps shares no memory with the request it came from.
func TestMemoDetachesRequestTerms(t *testing.T) {
	body := `{"user": "alice", "groups": ["eng"]}`
	id := ast.MustParseTerm(body)
	name := ast.StringTerm(body[10:15]) // "alice", a substring of the body
	shares := func(a, b string) bool {
		return len(a) > 0 && len(b) > 0 && unsafe.StringData(a) == unsafe.StringData(b)
	}
	key := detachScalars(ast.Ref{ast.VarTerm("data"), ast.StringTerm("f"), name, ast.ArrayTerm(name)})
	if s := string(key[2].Value.(ast.String)); s != "alice" || shares(s, body[10:15]) || key[2] == name {
		t.Errorf("a scalar argument is kept as %q sharing the request's memory", s)
	}
	if key[3].Value.(*ast.Array).Elem(0) != name {
		t.Errorf("a composite argument was copied")
	}
	d := detach(id).Value.(ast.Object)
	if d.Compare(id.Value) != 0 {
		t.Fatalf("detached identity %v differs from %v", d, id)
	}
	u := d.Get(ast.StringTerm("user"))
	if u == id.Value.(ast.Object).Get(ast.StringTerm("user")) {
		t.Errorf("the identity's terms are shared")
	}
	if v := detachValue(name); v == name || shares(string(v.Value.(ast.String)), body[10:15]) {
		t.Errorf("a scalar result shares the request's memory")
	}
}
