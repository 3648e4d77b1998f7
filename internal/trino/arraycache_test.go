package trino

import (
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
)

// batchBody is a FilterTables body of n tables, the last one named last.
func batchBody(user string, n int, last string) []byte {
	var b strings.Builder
	b.WriteString(`{"input":{"context":{"identity":{"user":"` + user + `","groups":[]}},"action":{"operation":"FilterTables","filterResources":[`)
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		name := "t" + strings.Repeat("x", i%5)
		if i == n-1 {
			name = last
		}
		b.WriteString(`{"table":{"catalogName":"hive","schemaName":"s","tableName":"` + name + `"}}`)
	}
	b.WriteString("]}}}")
	return []byte(b.String())
}

func decodeBatch(t *testing.T, body []byte) *ast.Array {
	t.Helper()
	r, err := Decode(body, EndpointBatch)
	if err != nil {
		t.Fatal(err)
	}
	return r.FilterResources
}

// A repeated batch, for another user, takes the array read the first time;
// one that differs in its last item, or sits at another depth, does not.
func TestArrayCacheKeepsRepeatedBatches(t *testing.T) {
	first := decodeBatch(t, batchBody("alice", 2000, "t-last"))
	again := decodeBatch(t, batchBody("bob", 2000, "t-last"))
	if first != again {
		t.Fatal("the same batch bytes were read again, not taken from arrayCache")
	}
	other := decodeBatch(t, batchBody("bob", 2000, "t-other"))
	if other == first || ast.Compare(other, first) == 0 {
		t.Fatal("a batch differing in its last item got the kept array")
	}
	if got := other.Elem(1999).Value.(ast.Object).Get(ast.StringTerm("table")).Value.(ast.Object).Get(ast.StringTerm("tableName")); got.Value.Compare(ast.String("t-other")) != 0 {
		t.Fatalf("last table read as %v", got)
	}
	// The same bytes one level deeper are read there (the nesting limit
	// counts from where they are).
	body := batchBody("carol", 2000, "t-last")
	at := strings.Index(string(body), `"filterResources":[`) + len(`"filterResources":`)
	nested := string(body[:at]) + "[" + string(body[at:len(body)-3]) + "]}}}"
	v, err := parseJSON([]byte(nested))
	if err != nil {
		t.Fatal(err)
	}
	inner := v.(ast.Object).Get(ast.StringTerm("input")).Value.(ast.Object).Get(ast.StringTerm("action")).Value.(ast.Object).
		Get(ast.StringTerm("filterResources")).Value.(*ast.Array).Elem(0).Value.(*ast.Array)
	if inner == first || ast.Compare(inner, first) != 0 {
		t.Fatal("the same array at another depth: want an equal array read again")
	}
}

// A body whose array is kept but cut short, or followed by other bytes, is
// still answered by the parser (the comparison covers the kept bytes only).
func TestArrayCacheBodyAroundKeptArray(t *testing.T) {
	body := batchBody("dave", 2000, "t-end")
	decodeBatch(t, body)
	cut := body[:len(body)-10]
	if _, err := Decode(cut, EndpointBatch); err == nil {
		t.Fatal("a cut body decoded")
	}
	trailing := append(append([]byte(nil), body[:len(body)-3]...), []byte(`,"x":1}}}`)...)
	if _, err := Decode(trailing, EndpointBatch); err != nil {
		t.Fatalf("a body with more after the kept array: %v", err)
	}
	broken := append(append([]byte(nil), body[:len(body)-3]...), []byte(`,}}}`)...)
	if _, err := Decode(broken, EndpointBatch); err == nil {
		t.Fatal("invalid JSON after the kept array decoded")
	}
}

// Items are checked for each resource kind until they pass: a batch with a
// bad item fails every time it is sent, and a batch that passed as tables is
// still checked as schemas.
func TestArrayCacheShapeChecks(t *testing.T) {
	bad := []byte(strings.Replace(string(batchBody("erin", 2000, "t-bad")), `"tableName":"t-bad"`, `"tableName":7`, 1))
	for range 2 {
		_, err := Decode(bad, EndpointBatch)
		if err == nil || !strings.Contains(err.Error(), "filterResources[1999].table.tableName") {
			t.Fatalf("bad item: %v", err)
		}
	}
	good := batchBody("erin", 2000, "t-good")
	arr := decodeBatch(t, good)
	if !arrays.checked(arr, ResTable) || arrays.checked(arr, ResSchema) {
		t.Fatal("checked kinds of a kept array")
	}
	decodeBatch(t, good)
	asSchemas := []byte(strings.Replace(string(good), `"FilterTables"`, `"FilterSchemas"`, 1))
	for range 2 {
		if _, err := Decode(asSchemas, EndpointBatch); err == nil || !strings.Contains(err.Error(), "filterResources[0].schema") {
			t.Fatalf("tables sent as schemas: %v", err)
		}
	}
}

// The cache holds at most its byte budget, dropping the oldest arrays and
// their checks with them.
func TestArrayCacheBound(t *testing.T) {
	c := newArrayCache(3000)
	var kept []*ast.Array
	for i := range 5 {
		src := "[" + strings.Repeat(`"a",`, 250) + `"` + string(rune('a'+i)) + `"]`
		v, err := parseJSON([]byte(src))
		if err != nil {
			t.Fatal(err)
		}
		c.keep(src, 1, ast.NewTerm(v))
		c.markChecked(v.(*ast.Array), ResTable)
		kept = append(kept, v.(*ast.Array))
		if c.bytes > c.max {
			t.Fatalf("%d bytes kept, budget %d", c.bytes, c.max)
		}
	}
	if c.len() != 2 || c.checked(kept[2], ResTable) || !c.checked(kept[4], ResTable) {
		t.Fatalf("%d kept; oldest checked %v, newest %v", c.len(), c.checked(kept[2], ResTable), c.checked(kept[4], ResTable))
	}
	if _, ok := c.lookup(`[`+strings.Repeat(`"a",`, 250)+`"a"]`, 1); ok {
		t.Fatal("a dropped array was found")
	}
	if k, ok := c.lookup(`[`+strings.Repeat(`"a",`, 250)+`"e"], 5`, 1); !ok || k.term.Value != kept[4] {
		t.Fatal("the newest array was not found")
	}
	if _, ok := c.lookup(`[`+strings.Repeat(`"a",`, 250)+`"e"]`, 2); ok {
		t.Fatal("found at another depth")
	}
}
