package policy

import (
	"math/rand/v2"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// The pooled virtual cache answers exactly as OPA's own, for any sequence of
// puts, gets, pushes and pops, before and after it is recycled.
func TestVirtualCacheMatchesOPA(t *testing.T) {
	words := []*ast.Term{
		ast.DefaultRootDocument, ast.StringTerm("trino"), ast.StringTerm("allow"), ast.StringTerm("_f"),
		ast.IntNumberTerm(1), ast.StringTerm("x"), ast.ArrayTerm(ast.StringTerm("a")), ast.SetTerm(ast.StringTerm("b")),
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	randomRef := func() ast.Ref {
		n := 1 + rnd.IntN(4)
		ref := make(ast.Ref, n)
		for i := range ref {
			ref[i] = words[rnd.IntN(len(words))]
		}
		return ref
	}
	c := getCaches()
	for round := range 50 {
		want := topdown.NewVirtualCache()
		got := &c.virtual
		depth := 0
		for op := range 400 {
			switch k := rnd.IntN(10); {
			case k < 4:
				ref := randomRef()
				var v *ast.Term
				if rnd.IntN(4) > 0 {
					v = ast.IntNumberTerm(op)
				}
				// The caller may reuse the slice it passed: scribble on it after.
				want.Put(ref.Copy(), v)
				got.Put(ref, v)
				for i := range ref {
					ref[i] = ast.StringTerm("scribbled")
				}
			case k < 8:
				ref := randomRef()
				wv, wu := want.Get(ref)
				gv, gu := got.Get(ref)
				if wu != gu || (wv == nil) != (gv == nil) || (wv != nil && !wv.Equal(gv)) {
					t.Fatalf("round %d op %d: Get(%v) = %v, %v; OPA's = %v, %v", round, op, ref, gv, gu, wv, wu)
				}
			case k == 8:
				want.Push()
				got.Push()
				depth++
			default:
				if depth > 0 {
					want.Pop()
					got.Pop()
					depth--
				}
			}
		}
		putCaches(c)
		c = getCaches()
	}
}

func TestBaseCache(t *testing.T) {
	var c baseCache
	ref := func(s string) ast.Ref { return ast.MustParseRef(s) }
	users := ast.MustParseTerm(`{"alice": {"groups": ["a"]}, "bob": {"groups": []}}`).Value
	c.Put(ref("data.gatehouse.users"), users)
	if v := c.Get(ref("data.gatehouse.users.alice.groups")); v == nil || ast.Compare(v, ast.MustParseTerm(`["a"]`).Value) != 0 {
		t.Fatalf("a reference under a cached document: %v", v)
	}
	if v := c.Get(ref("data.gatehouse.users.carol")); v != nil {
		t.Fatalf("a missing key under a cached document: %v", v)
	}
	if v := c.Get(ref("data.gatehouse")); v != nil {
		t.Fatalf("a prefix of a cached document is not cached: %v", v)
	}
	// A document put under a cached one is not consulted: the shorter one answers.
	c.Put(ref("data.gatehouse.users.alice"), ast.MustParseTerm(`{"groups": ["z"]}`).Value)
	if v := c.Get(ref("data.gatehouse.users.alice.groups")); ast.Compare(v, ast.MustParseTerm(`["a"]`).Value) != 0 {
		t.Fatalf("answered from the longer entry: %v", v)
	}
	// Putting a document drops those cached under it.
	c.Put(ref("data.gatehouse"), ast.MustParseTerm(`{"users": {}}`).Value)
	if v := c.Get(ref("data.gatehouse.users.alice")); v != nil {
		t.Fatalf("a document put over a cached one did not replace it: %v", v)
	}
	if n := len(c.entries); n != 1 {
		t.Fatalf("%d entries after a put over them, want 1", n)
	}
	c.reset()
	if v := c.Get(ref("data.gatehouse")); v != nil || len(c.entries) != 0 {
		t.Fatalf("reset kept %v", v)
	}
}
