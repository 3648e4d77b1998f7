package authz

import (
	"fmt"
	"testing"
)

func TestDecisionCache(t *testing.T) {
	c := NewDecisionCache(3, 100)
	body := []byte(`{"input":{}}`)
	if _, _, ok := c.Get("allow", body); ok {
		t.Fatal("hit on an empty cache")
	}
	gen := c.Generation()
	c.Put(gen, "allow", body, []byte("yes"), Decision{Result: ResultAllow})
	if out, d, ok := c.Get("allow", body); !ok || string(out) != "yes" || d.Result != ResultAllow {
		t.Fatalf("miss after put: %q %v %v", out, d, ok)
	}
	if _, _, ok := c.Get("batch", body); ok {
		t.Fatal("hit for another endpoint")
	}
	if _, _, ok := c.Get("allow", []byte(`{"input":{} }`)); ok {
		t.Fatal("hit for another body")
	}
	// A change to the directory or policies kills every entry.
	c.Invalidate()
	if _, _, ok := c.Get("allow", body); ok {
		t.Fatal("hit after invalidation")
	}
	// An answer computed before a change is not stored after it.
	c.Put(gen, "allow", body, []byte("stale"), Decision{})
	if _, _, ok := c.Get("allow", body); ok {
		t.Fatal("stale answer stored")
	}
	// Bodies over the limit are never cached.
	big := make([]byte, 101)
	c.Put(c.Generation(), "allow", big, []byte("x"), Decision{})
	if _, _, ok := c.Get("allow", big); ok {
		t.Fatal("oversized body cached")
	}
	// The cache never grows past its size.
	for i := range 10 {
		c.Put(c.Generation(), "allow", []byte{byte(i)}, []byte("x"), Decision{})
	}
	if len(c.entries) > 3 {
		t.Fatalf("%d entries, max 3", len(c.entries))
	}
	// Disabled caches and nil caches hold nothing.
	var nilCache *DecisionCache
	nilCache.Put(0, "allow", body, []byte("x"), Decision{})
	if _, _, ok := nilCache.Get("allow", body); ok {
		t.Fatal("nil cache hit")
	}
}

// Memory is bounded in bytes as well as entries, and entries of a dead
// generation are freed by the next put.
func TestDecisionCacheBytes(t *testing.T) {
	c := NewDecisionCache(1_000_000, 64<<10)
	c.maxBytes = 10 * (1000 + entryOverhead)
	body := func(i int) []byte { return []byte(fmt.Sprintf("%01000d", i)) }
	for i := range 25 {
		c.Put(c.Generation(), "allow", body(i), nil, Decision{})
		if _, b := c.Size(); b > c.maxBytes {
			t.Fatalf("after %d puts: %d bytes held, budget %d", i+1, b, c.maxBytes)
		}
	}
	if _, _, ok := c.Get("allow", body(24)); !ok {
		t.Error("the latest entry is gone")
	}
	c.Put(c.Generation(), "allow", body(24), []byte("again"), Decision{}) // a replace is not counted twice
	if n, b := c.Size(); b != n*(1000+entryOverhead)+len("again") {
		t.Errorf("%d entries, %d bytes after a replace", n, b)
	}
	c.Invalidate()
	c.Put(c.Generation(), "allow", body(99), nil, Decision{})
	if n, _ := c.Size(); n != 1 {
		t.Errorf("%d entries after a new generation's first put, want 1", n)
	}
}
