package policy

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
)

// A Collection behaves as a map from key to record through any mix of
// writes and removals, the table's rebuilds included, and a Collection once
// made never changes.
func TestCollectionMatchesAMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	want := map[string]Packed{}
	b := NewCollectionBuilder(300)
	for i := range 300 {
		key := fmt.Sprintf("u%d@example.com", i)
		b.Add(key, ast.String(key))
		want[key] = Pack(ast.String(key))
	}
	b.Add("u7@example.com", ast.String("again")) // a key added twice keeps the later record
	want["u7@example.com"] = Pack(ast.String("again"))
	c := b.Build()
	check := func(step int, c Collection, want map[string]Packed) {
		t.Helper()
		if c.Len() != len(want) {
			t.Fatalf("step %d: Len %d, want %d", step, c.Len(), len(want))
		}
		seen := map[string]bool{}
		c.Range(func(key string, rec Packed) bool {
			if seen[key] {
				t.Fatalf("step %d: Range gave %q twice", step, key)
			}
			seen[key] = true
			if want[key] != rec {
				t.Fatalf("step %d: Range gave %q = %s, want %s", step, key, rec, want[key])
			}
			return true
		})
		if len(seen) != len(want) {
			t.Fatalf("step %d: Range gave %d records, want %d", step, len(seen), len(want))
		}
		for _, key := range []string{"u1@example.com", "u7@example.com", "nobody", ""} {
			got, ok := c.Get(key)
			if w, wok := want[key]; ok != wok || got != w {
				t.Fatalf("step %d: Get(%q) = %s %v, want %s %v", step, key, got, ok, w, wok)
			}
		}
	}
	check(-1, c, want)
	type version struct {
		c    Collection
		want map[string]Packed
	}
	var kept []version
	for step := range 5000 { // several times maxOverlay: the table is rebuilt
		key := fmt.Sprintf("u%d@example.com", rng.IntN(3000))
		if rng.IntN(3) == 0 {
			next, had := c.Without(key)
			if _, w := want[key]; had != w {
				t.Fatalf("step %d: Without(%q) had %v, want %v", step, key, had, w)
			}
			c = next
			delete(want, key)
		} else {
			rec := Pack(ast.String(fmt.Sprintf("v%d", step)))
			c = c.With(key, rec)
			want[key] = rec
		}
		for _, probe := range []string{key, fmt.Sprintf("u%d@example.com", rng.IntN(3000))} {
			got, ok := c.Get(probe)
			if w, wok := want[probe]; ok != wok || got != w {
				t.Fatalf("step %d: Get(%q) = %s %v, want %s %v", step, probe, got, ok, w, wok)
			}
		}
		if step%500 == 0 {
			check(step, c, want)
			snapshot := make(map[string]Packed, len(want))
			for k, v := range want {
				snapshot[k] = v
			}
			kept = append(kept, version{c, snapshot})
		}
	}
	check(5000, c, want)
	for i, v := range kept {
		check(10_000+i, v.c, v.want)
	}
}

// The engine's store keeps a Collection as one value: records read, are
// written and removed inside it, a transaction that is aborted leaves it as it
// was, and reading the collection or the root gives every record.
func TestDataStoreCollections(t *testing.T) {
	ctx := context.Background()
	s := dataStore{inmem.NewFromObjectWithOpts(map[string]any{}, inmem.OptRoundTripOnWrite(false), inmem.OptReturnASTValuesOnRead(false))}
	users := NewCollectionBuilder(2)
	users.Add("alice", ast.MustParseTerm(`{"email": "alice", "groups": ["eng"]}`).Value)
	users.Add("bob", ast.MustParseTerm(`{"email": "bob"}`).Value)
	write := func(op storage.PatchOp, path storage.Path, v any) error {
		return storage.Txn(ctx, s, storage.WriteParams, func(txn storage.Transaction) error {
			return s.Write(ctx, txn, op, path, v)
		})
	}
	read := func(path ...string) string {
		v, err := storage.ReadOne(ctx, s, path)
		if storage.IsNotFound(err) {
			return "not found"
		}
		if err != nil {
			t.Fatal(err)
		}
		x, ok := v.(ast.Value)
		if !ok {
			if x, err = ast.InterfaceToValue(v); err != nil {
				t.Fatal(err)
			}
		}
		return x.String()
	}
	if err := write(storage.AddOp, storage.Path{DirectoryKey}, map[string]any{"users": users.Build()}); err != nil {
		t.Fatal(err)
	}
	if err := write(storage.AddOp, storage.Path{DirectoryKey, "users", "carol"}, ast.MustParseTerm(`{"email": "carol"}`).Value); err != nil {
		t.Fatal(err)
	}
	if err := write(storage.RemoveOp, storage.Path{DirectoryKey, "users", "bob"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := write(storage.RemoveOp, storage.Path{DirectoryKey, "users", "bob"}, nil); !storage.IsNotFound(err) {
		t.Fatalf("removing a missing record: %v, want not found", err)
	}
	// Aborted: neither the write nor the removal is seen, not even partly.
	txn, err := s.NewTransaction(ctx, storage.WriteParams)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, txn, storage.AddOp, storage.Path{DirectoryKey, "users", "dave"}, ast.MustParseTerm(`{"email": "dave"}`).Value); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, txn, storage.RemoveOp, storage.Path{DirectoryKey, "users", "alice"}, nil); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Read(ctx, txn, storage.Path{DirectoryKey, "users", "dave", "email"}); err != nil || v.(ast.Value).Compare(ast.String("dave")) != 0 {
		t.Fatalf("the transaction does not read its own write: %v %v", v, err)
	}
	s.Abort(ctx, txn)
	for _, c := range []struct {
		path []string
		want string
	}{
		{[]string{DirectoryKey, "users", "alice"}, `{"email": "alice", "groups": ["eng"]}`},
		{[]string{DirectoryKey, "users", "alice", "groups", "0"}, `"eng"`},
		{[]string{DirectoryKey, "users", "alice", "nope"}, "not found"},
		{[]string{DirectoryKey, "users", "bob"}, "not found"},
		{[]string{DirectoryKey, "users", "bob", "email"}, "not found"},
		{[]string{DirectoryKey, "users", "carol", "email"}, `"carol"`},
		{[]string{DirectoryKey, "users", "dave"}, "not found"},
		{[]string{DirectoryKey, "users"}, `{"alice": {"email": "alice", "groups": ["eng"]}, "carol": {"email": "carol"}}`},
		{[]string{}, `{"gatehouse": {"users": {"alice": {"email": "alice", "groups": ["eng"]}, "carol": {"email": "carol"}}}}`},
	} {
		if got := read(c.path...); got != c.want {
			t.Errorf("%v: got %s, want %s", c.path, got, c.want)
		}
	}
}
